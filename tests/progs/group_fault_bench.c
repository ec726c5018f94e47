// SPDX-License-Identifier: GPL-2.0
/*
 * group_fault_bench MIB ROUNDS TURN CGROUP...: fault throughput of a group
 * of processes that take turns on shared CPUs. One single-threaded process
 * per CGROUP argument (a cgroup directory to join, or "-" to stay in the
 * caller's), pinned round robin to the online CPUs, so that with more
 * processes than CPUs every CPU runs several cgroups. Each process maps MIB
 * MiB of anonymous memory, writes one byte per page, yielding its CPU every
 * TURN pages (0: never), and unmaps it, ROUNDS times. The processes start
 * together at a process-shared barrier; prints the faults of the whole group
 * and the seconds from the first process's start to the last one's end
 * (the guest's CLOCK_MONOTONIC: under QEMU's -icount it counts instructions).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64

struct shared {
	pthread_barrier_t start;
	double begin[MAX_PROCS];
	double end[MAX_PROCS];
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void join_cgroup(const char *dir)
{
	char path[PATH_MAX];
	FILE *f;

	if (!strcmp(dir, "-"))
		return;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void fault_loop(size_t bytes, int rounds, long turn)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile char *p;
	size_t off;
	long n = 0;
	int r;

	for (r = 0; r < rounds; r++) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("group_fault_bench: mmap");
			exit(1);
		}
		for (off = 0; off < bytes; off += page) {
			p[off] = 1;
			if (turn && ++n % turn == 0)
				sched_yield();
		}
		munmap((void *)p, bytes);
	}
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_barrierattr_t attr;
	double first, last;
	struct shared *sh;
	int procs, rounds, i, status, failed = 0;
	size_t bytes;
	long turn;
	cpu_set_t set;

	if (argc < 5) {
		fprintf(stderr, "usage: group_fault_bench MIB ROUNDS TURN CGROUP...\n");
		return 2;
	}
	bytes = (size_t)atol(argv[1]) << 20;
	rounds = atoi(argv[2]);
	turn = atol(argv[3]);
	procs = argc - 4;
	if (!bytes || rounds < 1 || turn < 0 || procs > MAX_PROCS) {
		fprintf(stderr, "group_fault_bench: bad arguments\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("group_fault_bench: mmap");
		return 1;
	}
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->start, &attr, procs);
	for (i = 0; i < procs; i++) {
		switch (fork()) {
		case -1:
			perror("group_fault_bench: fork");
			return 1;
		case 0:
			join_cgroup(argv[4 + i]);
			CPU_ZERO(&set);
			CPU_SET(i % cpus, &set);
			if (sched_setaffinity(0, sizeof(set), &set)) {
				perror("group_fault_bench: sched_setaffinity");
				exit(1);
			}
			pthread_barrier_wait(&sh->start);
			sh->begin[i] = now();
			fault_loop(bytes, rounds, turn);
			sh->end[i] = now();
			exit(0);
		}
	}
	for (i = 0; i < procs; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = 1;
	}
	if (failed) {
		fprintf(stderr, "group_fault_bench: a process failed\n");
		return 1;
	}
	first = sh->begin[0];
	last = sh->end[0];
	for (i = 1; i < procs; i++) {
		if (sh->begin[i] < first)
			first = sh->begin[i];
		if (sh->end[i] > last)
			last = sh->end[i];
	}
	printf("%ld %.6f\n", (long)procs * rounds * (long)(bytes / sysconf(_SC_PAGESIZE)),
	       last - first);
	return 0;
}
