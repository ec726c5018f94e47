// SPDX-License-Identifier: GPL-2.0
/*
 * fork_churn SECONDS PARALLEL KIB: keep PARALLEL child processes coming and
 * going. The parent maps KIB KiB of anonymous memory and touches it; each
 * child writes every page of that copy-on-write mapping (one COW fault and
 * charge per page), maps and touches KIB KiB of its own, and exits; the
 * parent reaps it and forks the next. Every fork also allocates a task
 * struct, a kernel stack, an mm and page tables (kernel memory charged to
 * the memcg), and every exit frees them. Ends after SECONDS or at
 * SIGUSR1/SIGTERM; prints the children run; exit status 0 when every child
 * exited with 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;
static size_t bytes;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
}

/* volatile: at -O2 the stores to memory about to be unmapped vanish. */
static void touch(volatile char *p, char v)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t off;

	for (off = 0; off < bytes; off += page)
		p[off] = v;
}

static void *map(void)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("fork_churn: mmap");
		exit(1);
	}
	return p;
}

static int child(char *shared)
{
	touch(shared, 2);
	touch(map(), 3);
	return 0;
}

/*
 * Waits for one child and counts it out of *running, and as failed if it
 * did not exit with 0. Returns 0, or -1 if wait() failed (counted as a
 * failure); an interrupted wait returns 0 with nothing reaped.
 */
static int reap(int *running, unsigned long *failed)
{
	int status;

	if (wait(&status) < 0) {
		if (errno == EINTR)
			return 0;
		perror("fork_churn: wait");
		(*failed)++;
		return -1;
	}
	(*running)--;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		(*failed)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART */
	unsigned long forked = 0, failed = 0;
	struct timespec now, deadline;
	int seconds, parallel, running = 0;
	char *shared;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: fork_churn SECONDS PARALLEL KIB\n");
		return 2;
	}
	seconds = atoi(argv[1]);
	parallel = atoi(argv[2]);
	bytes = (size_t)atol(argv[3]) << 10;
	if (seconds < 1 || parallel < 1 || !bytes) {
		fprintf(stderr, "fork_churn: bad arguments\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("fork_churn: sigaction");
		return 1;
	}
	shared = map();
	touch(shared, 1);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (atomic_load_explicit(&stop, memory_order_relaxed) ||
		    now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
			break;
		if (running < parallel) {
			pid = fork();
			if (pid < 0) {
				perror("fork_churn: fork");
				failed++;
				break;
			}
			if (pid == 0)
				_exit(child(shared));
			forked++;
			running++;
			continue;
		}
		if (reap(&running, &failed) < 0)
			break;
	}
	while (running > 0)
		if (reap(&running, &failed) < 0)
			break;
	printf("fork_churn: %lu children forked, %lu failed\n", forked, failed);
	return failed || !forked;
}
