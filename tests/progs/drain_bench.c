// SPDX-License-Identifier: GPL-2.0
/*
 * drain_bench CGROUP ITERATIONS FILE [nodrain]: latency of a memory.max
 * write that drains the per-CPU charge stocks of every CPU.
 *
 * Joins CGROUP (a cgroup directory), reads FILE (on a disk filesystem, cold)
 * so that the cgroup holds reclaimable page cache, and starts one thread
 * pinned to each online CPU; the main thread runs on CPU 0. Then, ITERATIONS
 * times:
 *  - every thread faults in and unmaps one page: the first charge on a CPU
 *    after a drain takes a whole batch and leaves the rest in that CPU's
 *    stock, so every CPU ends up holding stocked pages of CGROUP;
 *  - the main thread writes memory.max one page below memory.current, which
 *    the stocked pages make the write drain, timing write() alone with
 *    CLOCK_MONOTONIC, then writes "max" back and waits until memory.current
 *    stops falling (drains the write queued on other CPUs have run).
 * Should the drain not free that page (a stock emptied early), the write
 * reclaims the page cache instead of killing: such iterations are counted.
 * With "nodrain" it writes "max" instead, the same sequence with nothing to
 * drain: the floor of the write. Prints the median and the minimum latency in
 * microseconds (under QEMU's -icount the guest clock counts instructions) and
 * the number of writes that reclaimed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_CPUS 64

static pthread_barrier_t go, done;
static int iterations;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("drain_bench: sched_setaffinity");
		exit(1);
	}
}

static void *populate(void *arg)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	int i;

	pin((int)(long)arg);
	for (i = 0; i < iterations; i++) {
		pthread_barrier_wait(&go);
		/* A drain still queued on this CPU runs first. */
		sched_yield();
		p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("drain_bench: mmap");
			exit(1);
		}
		*p = 1;
		munmap((void *)p, page);
		pthread_barrier_wait(&done);
	}
	return NULL;
}

static void write_file(int fd, const char *val, const char *what)
{
	if (pwrite(fd, val, strlen(val), 0) != (ssize_t)strlen(val)) {
		perror(what);
		exit(1);
	}
}

static long long read_current(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		perror("drain_bench: memory.current");
		exit(1);
	}
	buf[n] = 0;
	return atoll(buf);
}

/* FILE stays mapped, never touched, to count its pages in the page cache. */
static unsigned char *residency;
static size_t file_len;
static void *file_map;

static void read_file(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		file_len += n;
	if (n < 0) {
		perror(path);
		exit(1);
	}
	file_map = mmap(NULL, file_len, PROT_READ, MAP_SHARED, fd, 0);
	residency = malloc(file_len / sysconf(_SC_PAGESIZE) + 1);
	if (file_map == MAP_FAILED || !residency) {
		perror("drain_bench: mmap FILE");
		exit(1);
	}
	close(fd);
}

static long cached_pages(void)
{
	long page = sysconf(_SC_PAGESIZE);
	long i, n = 0;

	if (mincore(file_map, file_len, residency)) {
		perror("drain_bench: mincore");
		exit(1);
	}
	for (i = 0; i < (long)((file_len + page - 1) / page); i++)
		n += residency[i] & 1;
	return n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long page = sysconf(_SC_PAGESIZE);
	char path[PATH_MAX], val[32];
	pthread_t tid[MAX_CPUS];
	struct timespec t0, t1;
	int procs, max, current, nodrain, reclaimed = 0, i, settle;
	long long before, now;
	double *us;

	nodrain = argc == 5 && !strcmp(argv[4], "nodrain");
	if ((argc != 4 && !nodrain) || (iterations = atoi(argv[2])) < 1 || cpus > MAX_CPUS) {
		fprintf(stderr, "usage: drain_bench CGROUP ITERATIONS FILE [nodrain]\n");
		return 2;
	}
	us = calloc(iterations, sizeof(*us));
	snprintf(path, sizeof(path), "%s/cgroup.procs", argv[1]);
	procs = open(path, O_WRONLY);
	snprintf(val, sizeof(val), "%d", getpid());
	if (procs < 0 || !us) {
		perror(path);
		return 1;
	}
	write_file(procs, val, path);
	close(procs);
	snprintf(path, sizeof(path), "%s/memory.max", argv[1]);
	max = open(path, O_WRONLY);
	snprintf(path, sizeof(path), "%s/memory.current", argv[1]);
	current = open(path, O_RDONLY);
	if (max < 0 || current < 0) {
		perror(path);
		return 1;
	}
	read_file(argv[3]);

	pin(0);
	pthread_barrier_init(&go, NULL, cpus + 1);
	pthread_barrier_init(&done, NULL, cpus + 1);
	for (i = 0; i < cpus; i++)
		pthread_create(&tid[i], NULL, populate, (void *)(long)i);
	for (i = 0; i < iterations; i++) {
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);
		if (nodrain)
			strcpy(val, "max");
		else
			snprintf(val, sizeof(val), "%lld", read_current(current) - page);
		before = cached_pages();
		clock_gettime(CLOCK_MONOTONIC, &t0);
		write_file(max, val, "drain_bench: memory.max");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		us[i] = (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
		write_file(max, "max", "drain_bench: memory.max");
		if (cached_pages() != before)
			reclaimed++;
		for (settle = 0, now = read_current(current); settle < 50; settle++) {
			before = now;
			usleep(1000);
			now = read_current(current);
			if (now == before)
				break;
		}
	}
	for (i = 0; i < cpus; i++)
		pthread_join(tid[i], NULL);
	qsort(us, iterations, sizeof(*us), cmp);
	printf("%.3f %.3f %d\n", us[iterations / 2], us[0], reclaimed);
	return 0;
}
