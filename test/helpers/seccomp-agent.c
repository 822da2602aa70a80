#define _GNU_SOURCE
/* Test helper: a seccomp agent, the listenerPath end of SCMP_ACT_NOTIFY.
 *   seccomp-agent SOCKET_PATH STATE_FILE ERRNO
 * Listens on SOCKET_PATH; for each connection (the container's init, then each exec) receives a
 * container process state (JSON) with a seccomp listener fd over SCM_RIGHTS, writes the JSON to
 * STATE_FILE (the first) or STATE_FILE.N (the Nth, N >= 2), prints "received N", then a child
 * answers every syscall notified through that fd with -ERRNO until its processes are gone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int serve(int c, const char *state_file, int count, int answer);

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: seccomp-agent SOCKET STATE_FILE ERRNO\n");
		return 2;
	}
	int answer = atoi(argv[3]);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	unlink(argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	signal(SIGCHLD, SIG_IGN);
	for (int count = 1;; count++) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) {
			perror("accept");
			return 1;
		}
		if (serve(c, argv[2], count, answer) < 0)
			return 1;
		close(c);
	}
}

static int serve(int c, const char *state_file, int count, int answer)
{
	char buf[65536], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(c, &msg, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || !cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no state or no fd\n");
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	char name[4096];
	if (count == 1)
		snprintf(name, sizeof name, "%s", state_file);
	else
		snprintf(name, sizeof name, "%s.%d", state_file, count);
	FILE *out = fopen(name, "w");
	if (!out || fwrite(buf, 1, (size_t)n, out) != (size_t)n || fclose(out) != 0) {
		perror("state file");
		return -1;
	}
	printf("received %d\n", count);
	fflush(stdout);
	pid_t child = fork();
	if (child != 0) {
		close(fd);
		return child < 0 ? -1 : 0;
	}
	struct seccomp_notif_sizes sz;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &(unsigned long long){ 0 }) < 0 && errno == ENOTTY) {
		fprintf(stderr, "not a seccomp listener\n");
		_exit(1);
	}
	if (syscall(317 /* seccomp */, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		perror("sizes");
		_exit(1);
	}
	struct seccomp_notif *req = calloc(1, sz.seccomp_notif > sizeof *req ? sz.seccomp_notif : sizeof *req);
	struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp > sizeof *resp ? sz.seccomp_notif_resp : sizeof *resp);
	for (;;) {
		memset(req, 0, sz.seccomp_notif);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
			if (errno == EINTR)
				continue;
			break; /* ENOENT: no process is left that the filter applies to */
		}
		printf("syscall %d\n", req->data.nr);
		fflush(stdout);
		memset(resp, 0, sz.seccomp_notif_resp);
		resp->id = req->id;
		resp->error = -answer;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	_exit(0);
}
