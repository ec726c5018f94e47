// SPDX-License-Identifier: GPL-2.0
/*
 * churn SECONDS THREADS ANON_KIB DIR: charge and uncharge memory
 * continuously. Each of THREADS threads loops: map ANON_KIB KiB of anonymous
 * memory, touch every page, unmap it, then read one of the regular files in
 * DIR to the end through the page cache (the threads walk the files in
 * turn). The loop ends after SECONDS seconds or at SIGUSR1/SIGTERM (not at a
 * stop file: looking one up would leave a dentry charged to the workload's
 * cgroup). Prints the rounds, pages touched and bytes read; exit status 0
 * when every thread ran at least one round without an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_FILES 256

struct worker {
	pthread_t tid;
	int id;
	unsigned long rounds;
	unsigned long pages;
	unsigned long long bytes;
	int err;
};

static struct timespec deadline;
static size_t anon_bytes;
static atomic_int stop;
static char *files[MAX_FILES];
static int nr_files;

static int keep_going(void)
{
	struct timespec now;

	if (atomic_load_explicit(&stop, memory_order_relaxed))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec);
}

static int touch_anon(struct worker *w, long page)
{
	/* volatile: at -O2 the stores to memory about to be unmapped vanish. */
	volatile char *p;
	size_t off;

	p = mmap(NULL, anon_bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("churn: mmap");
		return -1;
	}
	for (off = 0; off < anon_bytes; off += page) {
		p[off] = (char)off;
		w->pages++;
	}
	if (munmap((void *)p, anon_bytes)) {
		perror("churn: munmap");
		return -1;
	}
	return 0;
}

static int read_one(struct worker *w, const char *path)
{
	static __thread char buf[1 << 16];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "churn: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		w->bytes += n;
	if (n < 0)
		fprintf(stderr, "churn: read %s: %s\n", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

static void on_stop(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	long page = sysconf(_SC_PAGESIZE);
	int next = w->id;

	while (keep_going()) {
		if (touch_anon(w, page) ||
		    read_one(w, files[next++ % nr_files])) {
			w->err = 1;
			break;
		}
		w->rounds++;
	}
	return NULL;
}

static int collect_files(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "churn: opendir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && nr_files < MAX_FILES) {
		if (de->d_type != DT_REG)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		files[nr_files] = strdup(path);
		if (!files[nr_files])
			break;
		nr_files++;
	}
	closedir(d);
	if (!nr_files) {
		fprintf(stderr, "churn: no regular files in %s\n", dir);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };
	unsigned long rounds = 0, pages = 0;
	unsigned long long bytes = 0;
	int seconds, threads, i, err = 0;

	if (argc != 5) {
		fprintf(stderr,
			"usage: churn SECONDS THREADS<=%d ANON_KIB DIR\n",
			MAX_THREADS);
		return 2;
	}
	seconds = atoi(argv[1]);
	threads = atoi(argv[2]);
	anon_bytes = (size_t)atol(argv[3]) << 10;
	if (seconds < 1 || threads < 1 || threads > MAX_THREADS || !anon_bytes) {
		fprintf(stderr, "churn: bad arguments\n");
		return 2;
	}
	if (collect_files(argv[4]))
		return 1;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("churn: sigaction");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	for (i = 0; i < threads; i++) {
		workers[i].id = i;
		if (pthread_create(&workers[i].tid, NULL, work, &workers[i])) {
			fprintf(stderr, "churn: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		pthread_join(workers[i].tid, NULL);
		rounds += workers[i].rounds;
		pages += workers[i].pages;
		bytes += workers[i].bytes;
		if (workers[i].err || !workers[i].rounds)
			err = 1;
	}
	printf("churn: %d threads, %lu rounds, %lu pages touched, %llu bytes read\n",
	       threads, rounds, pages, bytes);
	return err;
}
