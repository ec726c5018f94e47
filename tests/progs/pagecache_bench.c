// SPDX-License-Identifier: GPL-2.0
/*
 * pagecache_bench read|write DIR THREADS MIB: page-cache charge throughput.
 * Thread i runs on online CPU i (modulo their number) only and works on its
 * own file DIR/f.i:
 *   read   reads the (existing) file to the end, 64 KiB per read();
 *   write  creates or truncates it and writes MIB MiB, 64 KiB per write().
 * The threads start together at a barrier. Prints the pages read or written
 * by all threads and the seconds from the first thread's start to the last
 * one's end, each timed by the thread itself: the main thread may wait for a
 * CPU after the barrier. (The guest's CLOCK_MONOTONIC: under QEMU's -icount
 * it counts instructions.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define CHUNK (64 << 10)

struct worker {
	pthread_t tid;
	int cpu;
	int fd;
	long long bytes;
	double begin, end;
};

static int writing;
static long long file_bytes;
static pthread_barrier_t start;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char *buf = malloc(CHUNK);
	cpu_set_t set;
	ssize_t n;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("pagecache_bench: sched_setaffinity");
		exit(1);
	}
	if (!buf) {
		perror("pagecache_bench: malloc");
		exit(1);
	}
	memset(buf, 0x5a, CHUNK);
	pthread_barrier_wait(&start);
	w->begin = now();
	if (writing) {
		for (w->bytes = 0; w->bytes < file_bytes; w->bytes += n) {
			n = write(w->fd, buf, CHUNK);
			if (n <= 0) {
				perror("pagecache_bench: write");
				exit(1);
			}
		}
	} else {
		while ((n = read(w->fd, buf, CHUNK)) > 0)
			w->bytes += n;
		if (n < 0) {
			perror("pagecache_bench: read");
			exit(1);
		}
	}
	w->end = now();
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	char path[PATH_MAX];
	double first, last;
	long long total = 0;
	int threads, i;

	if (argc != 5 || (strcmp(argv[1], "read") && strcmp(argv[1], "write"))) {
		fprintf(stderr, "usage: pagecache_bench read|write DIR THREADS MIB\n");
		return 2;
	}
	writing = !strcmp(argv[1], "write");
	threads = atoi(argv[3]);
	file_bytes = atoll(argv[4]) << 20;
	if (threads < 1 || threads > MAX_THREADS || file_bytes <= 0) {
		fprintf(stderr, "pagecache_bench: bad arguments\n");
		return 2;
	}
	for (i = 0; i < threads; i++) {
		snprintf(path, sizeof(path), "%s/f.%d", argv[2], i);
		workers[i].fd = writing ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) :
					  open(path, O_RDONLY);
		if (workers[i].fd < 0) {
			perror(path);
			return 1;
		}
	}
	pthread_barrier_init(&start, NULL, threads);
	for (i = 0; i < threads; i++) {
		workers[i].cpu = i % sysconf(_SC_NPROCESSORS_ONLN);
		pthread_create(&workers[i].tid, NULL, run, &workers[i]);
	}
	first = 1e300;
	last = 0;
	for (i = 0; i < threads; i++) {
		pthread_join(workers[i].tid, NULL);
		close(workers[i].fd);
		total += workers[i].bytes;
		if (workers[i].begin < first)
			first = workers[i].begin;
		if (workers[i].end > last)
			last = workers[i].end;
	}
	printf("%lld %.6f\n", total / sysconf(_SC_PAGESIZE), last - first);
	return 0;
}
