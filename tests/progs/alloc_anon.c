// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_anon MIB [THREADS] [HOLD_SECONDS]: map MIB MiB of anonymous memory per
 * thread and touch every page, then hold it. Exit status 0 once every thread
 * has touched all of its memory; an OOM kill ends the process first.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t bytes;
static pthread_barrier_t touched;

static void *touch(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	size_t off;

	(void)arg;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("alloc_anon: mmap");
		exit(1);
	}
	for (off = 0; off < bytes; off += page)
		p[off] = 1;
	pthread_barrier_wait(&touched);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	int hold = argc > 3 ? atoi(argv[3]) : 0;
	pthread_t tid[64];
	int i;

	if (argc < 2 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: alloc_anon MIB [THREADS<=64] [HOLD_SECONDS]\n");
		return 2;
	}
	bytes = (size_t)atol(argv[1]) << 20;
	pthread_barrier_init(&touched, NULL, threads + 1);
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, touch, NULL);
	pthread_barrier_wait(&touched);
	printf("alloc_anon: %d thread(s) touched %s MiB each\n", threads, argv[1]);
	fflush(stdout);
	sleep(hold);
	return 0;
}
