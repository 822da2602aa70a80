/* A tiny static probe put inside test containers: it asks the kernel what the container sees.
 *   probe syscall NR [ARG...]   print "ok" or the errno name of a raw syscall
 *   probe fds                   print the open file descriptors
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "syscall") == 0) {
		long a[6] = { 0 };
		for (int i = 0; i < 6 && i + 3 < argc; i++)
			a[i] = strtol(argv[i + 3], NULL, 0);
		long r = syscall(strtol(argv[2], NULL, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
		if (r < 0)
			printf("errno=%d\n", errno);
		else
			printf("ok\n");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		int self = dirfd(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && atoi(e->d_name) != self)
				printf("%s\n", e->d_name);
		return 0;
	}
	fprintf(stderr, "usage: probe syscall NR [ARG...] | probe fds\n");
	return 2;
}
