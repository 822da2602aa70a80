#define _GNU_SOURCE
/* Test helper: a seccomp agent, the listenerPath end of SCMP_ACT_NOTIFY.
 *   seccomp-agent SOCKET_PATH STATE_FILE ERRNO
 * Listens on SOCKET_PATH, receives one container process state (JSON) with the seccomp listener
 * fd over SCM_RIGHTS, writes the JSON to STATE_FILE, prints "received", then answers every
 * notified syscall with -ERRNO until the container is gone. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

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
	int c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	char buf[65536], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(c, &msg, 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || !cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no state or no fd\n");
		return 1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof fd);
	FILE *out = fopen(argv[2], "w");
	if (!out || fwrite(buf, 1, (size_t)n, out) != (size_t)n || fclose(out) != 0) {
		perror("state file");
		return 1;
	}
	printf("received\n");
	fflush(stdout);
	struct seccomp_notif_sizes sz;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &(unsigned long long){ 0 }) < 0 && errno == ENOTTY) {
		fprintf(stderr, "not a seccomp listener\n");
		return 1;
	}
	if (syscall(317 /* seccomp */, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0) {
		perror("sizes");
		return 1;
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
	return 0;
}
