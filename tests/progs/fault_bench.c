// SPDX-License-Identifier: GPL-2.0
/*
 * fault_bench THREADS MIB ROUNDS: each thread maps MIB MiB of anonymous
 * memory, writes one byte per page and unmaps it, ROUNDS times. Prints the
 * page faults per second of the whole run (the clock of the guest: under
 * QEMU's -icount it counts instructions).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t bytes;
static int rounds;
static pthread_barrier_t start;

static void *fault_loop(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	size_t off;
	int r;

	(void)arg;
	pthread_barrier_wait(&start);
	for (r = 0; r < rounds; r++) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("fault_bench: mmap");
			exit(1);
		}
		for (off = 0; off < bytes; off += page)
			p[off] = 1;
		munmap((void *)p, bytes);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	pthread_t tid[64];
	int threads, i;
	double secs;

	if (argc != 4) {
		fprintf(stderr, "usage: fault_bench THREADS MIB ROUNDS\n");
		return 2;
	}
	threads = atoi(argv[1]);
	bytes = (size_t)atol(argv[2]) << 20;
	rounds = atoi(argv[3]);
	if (threads < 1 || threads > 64 || !bytes || rounds < 1) {
		fprintf(stderr, "fault_bench: bad arguments\n");
		return 2;
	}
	pthread_barrier_init(&start, NULL, threads + 1);
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, fault_loop, NULL);
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld %.6f\n", (long)threads * rounds * (long)(bytes / sysconf(_SC_PAGESIZE)), secs);
	return 0;
}
