// SPDX-License-Identifier: GPL-2.0
/*
 * read_file PATH: read PATH to the end through the page cache and print the
 * number of bytes read. Exit status 0 on success.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	long long total = 0;
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: read_file PATH\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror("read_file: open");
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0) {
		perror("read_file: read");
		return 1;
	}
	printf("read_file: %lld bytes\n", total);
	return 0;
}
