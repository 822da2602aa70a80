/* Test helper: the receiving end of --console-socket, as containerd or podman's conmon are.
 *   recvtty SOCKET_PATH OUTPUT_FILE [INPUT]
 * Listens on SOCKET_PATH, receives one pty master over SCM_RIGHTS, writes INPUT to it (if any),
 * then copies everything the container writes to OUTPUT_FILE until the pty closes. Prints the
 * name the sender attached, then "received" on stdout once it has the fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: recvtty SOCKET OUTPUT [INPUT]\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 1) < 0) {
		perror("listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	int c = accept(s, NULL, NULL);
	char name[256] = { 0 }, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	if (c < 0 || recvmsg(c, &msg, 0) < 0) {
		perror("recvmsg");
		return 1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no fd received\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof master);
	printf("received %s\n", name);
	fflush(stdout);
	if (argc > 3 && write(master, argv[3], strlen(argv[3])) < 0)
		perror("write");
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[4096];
	ssize_t n;
	while ((n = read(master, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) < 0)
			break;
	close(out);
	return 0;
}
