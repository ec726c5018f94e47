// SPDX-License-Identifier: GPL-2.0
/*
 * sock_churn SECONDS [FAMILIES [CONN_KIB]]: TCP over loopback, client and
 * server in one process. For each family in FAMILIES ("4": 127.0.0.1, "6":
 * ::1, default "46") a server thread accepts connections on an ephemeral
 * port and reads them to the end, pausing now and then so that data queues
 * up, while a client thread connects, writes CONN_KIB KiB (default 4096) in
 * 64 KiB writes and closes, over and over. Socket buffers fill, drain and are
 * freed, and sockets are created and destroyed: on cgroup v2 all of it is
 * charged to the process's memcg (memory.stat sock, and kernel for the
 * socket structs). Send and receive buffers are fixed at BUF_BYTES (the
 * kernel doubles that), so that socket memory stays around a few MiB
 * instead of growing with TCP autotuning: it cannot be reclaimed, and a
 * memory.max below it ends in an OOM kill. The server resets each
 * connection once it has read it to the end (SO_LINGER 0), which frees both
 * ends at once: no TIME_WAIT socket, charged kernel memory that lives for a
 * minute, outlasts the run. Ends after SECONDS or at
 * SIGUSR1/SIGTERM. Prints the
 * connections and bytes per family; exit status 0 when every family
 * completed a connection and nothing failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 << 10)
#define BUF_BYTES (256 << 10)
/* Bound on every blocking call, so that the threads see the stop flag. */
#define TIMEOUT_MS 200

struct family {
	int af;
	const char *name;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int listener;
	pthread_t server, client;
	unsigned long conns_sent, conns_read;
	unsigned long long bytes_sent, bytes_read;
	int err;
};

static struct timespec deadline;
static atomic_int stop;
static size_t conn_bytes = 4096 << 10;

static int keep_going(void)
{
	struct timespec now;

	if (atomic_load_explicit(&stop, memory_order_relaxed))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < deadline.tv_sec ||
	       (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec);
}

static void on_stop(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
}

/* A timed-out or interrupted call is retried while the run goes on. */
static int transient(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* Timeouts and buffer sizes; accepted sockets inherit the listener's. */
static int set_opts(struct family *f, int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = TIMEOUT_MS * 1000 };
	int buf = BUF_BYTES;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf))) {
		fprintf(stderr, "sock_churn: %s: setsockopt: %s\n", f->name, strerror(errno));
		return -1;
	}
	return 0;
}

static void *serve(void *arg)
{
	static __thread char buf[16 << 10];
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	struct family *f = arg;
	unsigned long reads;
	ssize_t n;
	int fd;

	while (keep_going()) {
		fd = accept(f->listener, NULL, NULL);
		if (fd < 0) {
			if (transient(errno))
				continue;
			fprintf(stderr, "sock_churn: %s: accept: %s\n", f->name, strerror(errno));
			f->err = 1;
			break;
		}
		if (set_opts(f, fd)) {
			f->err = 1;
			close(fd);
			break;
		}
		reads = 0;
		for (;;) {
			n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				f->bytes_read += n;
				/* Let the receive queue grow now and then. */
				if (++reads % 64 == 0)
					usleep(2000);
				continue;
			}
			if (n == 0) {
				f->conns_read++;
				break;
			}
			if (transient(errno) && keep_going())
				continue;
			if (!transient(errno)) {
				fprintf(stderr, "sock_churn: %s: read: %s\n", f->name, strerror(errno));
				f->err = 1;
			}
			break;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset))) {
			fprintf(stderr, "sock_churn: %s: SO_LINGER: %s\n", f->name, strerror(errno));
			f->err = 1;
		}
		close(fd);
	}
	return NULL;
}

static void *send_loop(void *arg)
{
	static __thread char buf[CHUNK];
	struct family *f = arg;
	size_t left;
	ssize_t n;
	int fd;

	memset(buf, 'm', sizeof(buf));
	while (keep_going()) {
		fd = socket(f->af, SOCK_STREAM, 0);
		if (fd < 0 || set_opts(f, fd)) {
			fprintf(stderr, "sock_churn: %s: socket: %s\n", f->name, strerror(errno));
			f->err = 1;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (connect(fd, (struct sockaddr *)&f->addr, f->addrlen)) {
			/* A connect timed out by SO_SNDTIMEO says EINPROGRESS. */
			if (!transient(errno) && errno != EINPROGRESS) {
				fprintf(stderr, "sock_churn: %s: connect: %s\n", f->name, strerror(errno));
				f->err = 1;
			}
			close(fd);
			if (f->err)
				break;
			continue;
		}
		for (left = conn_bytes; left && keep_going();) {
			n = write(fd, buf, left < CHUNK ? left : CHUNK);
			if (n > 0) {
				left -= n;
				f->bytes_sent += n;
				continue;
			}
			if (n < 0 && transient(errno))
				continue;
			fprintf(stderr, "sock_churn: %s: write: %s\n", f->name,
				n < 0 ? strerror(errno) : "wrote nothing");
			f->err = 1;
			break;
		}
		if (!left)
			f->conns_sent++;
		close(fd);
		if (f->err)
			break;
	}
	return NULL;
}

static int setup(struct family *f)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&f->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&f->addr;
	int one = 1;

	memset(&f->addr, 0, sizeof(f->addr));
	if (f->af == AF_INET) {
		in4->sin_family = AF_INET;
		in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		f->addrlen = sizeof(*in4);
	} else {
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		f->addrlen = sizeof(*in6);
	}
	f->listener = socket(f->af, SOCK_STREAM, 0);
	if (f->listener < 0 ||
	    setsockopt(f->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    set_opts(f, f->listener) ||
	    bind(f->listener, (struct sockaddr *)&f->addr, f->addrlen) ||
	    listen(f->listener, 8) ||
	    getsockname(f->listener, (struct sockaddr *)&f->addr, &f->addrlen)) {
		fprintf(stderr, "sock_churn: %s: listen: %s\n", f->name, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };	/* no SA_RESTART */
	static struct family fams[2];
	const char *which = argc > 2 ? argv[2] : "46";
	int seconds, nr = 0, i, err = 0;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: sock_churn SECONDS [FAMILIES(4|6|46) [CONN_KIB]]\n");
		return 2;
	}
	seconds = atoi(argv[1]);
	if (argc > 3)
		conn_bytes = (size_t)atol(argv[3]) << 10;
	if (seconds < 1 || !conn_bytes || !*which || strspn(which, "46") != strlen(which)) {
		fprintf(stderr, "sock_churn: bad arguments\n");
		return 2;
	}
	if (strchr(which, '4'))
		fams[nr++] = (struct family){ .af = AF_INET, .name = "127.0.0.1" };
	if (strchr(which, '6'))
		fams[nr++] = (struct family){ .af = AF_INET6, .name = "::1" };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL)) {
		perror("sock_churn: sigaction");
		return 1;
	}
	/* A reader that has gone away must fail the write, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	for (i = 0; i < nr; i++) {
		if (setup(&fams[i]))
			return 1;
		if (pthread_create(&fams[i].server, NULL, serve, &fams[i]) ||
		    pthread_create(&fams[i].client, NULL, send_loop, &fams[i])) {
			fprintf(stderr, "sock_churn: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < nr; i++) {
		struct family *f = &fams[i];

		pthread_join(f->client, NULL);
		pthread_join(f->server, NULL);
		close(f->listener);
		printf("sock_churn: %s: %lu connections sent, %lu read to the end, %llu bytes sent, %llu read\n",
		       f->name, f->conns_sent, f->conns_read, f->bytes_sent, f->bytes_read);
		if (f->err || !f->conns_sent || !f->conns_read)
			err = 1;
	}
	return err;
}
