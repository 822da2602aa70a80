/* A tiny static probe put inside test containers: it asks the kernel what the container sees.
 *   probe syscall NR [ARG...]   print "ok" or the errno name of a raw syscall
 *   probe fds                   print the open file descriptors
 *   probe noclone3 CMD [ARG...] run CMD with clone3 failing ENOSYS (as docker's default seccomp
 *                               profile has it), so callers take their clone() fallbacks
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static int no_clone3(char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* clone3 */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("probe: seccomp");
		return 125;
	}
	execvp(argv[0], argv);
	perror("probe: exec");
	return 127;
}

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
	if (argc >= 3 && strcmp(argv[1], "noclone3") == 0)
		return no_clone3(argv + 2);
	fprintf(stderr, "usage: probe syscall NR [ARG...] | probe fds | probe noclone3 CMD [ARG...]\n");
	return 2;
}
