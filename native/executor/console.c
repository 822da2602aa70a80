/*
 * Terminals and the foreground monitor.
 *
 * The pty is created inside the container (from its own devpts instance, after pivot_root), so
 * the container sees /dev/pts/0 as its terminal. The master goes to --console-socket when given
 * (containerd, podman), else back to stage 0, which relays it to the user's terminal.
 *
 * Why this is C and not TypeScript: receiving an fd over SCM_RIGHTS, ioctl(TIOCSWINSZ) and raw
 * mode are not reachable from Bun without FFI, and stage 0 already exists to wait for the child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "executor.h"

int pty_made;

int send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

int recv_fd(int sock)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof cbuf };
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

void do_console(struct step *s)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, 0);
	int unlock = 0, n;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		fail(errno, 0);
	char slave_path[64];
	snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", n);
	int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		fail(errno, 0);
	/* As runc does, the pty is also the container's /dev/console (in its own /dev tmpfs). */
	if (s->f[2].num) {
		int c = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (c < 0)
			fail(errno, 0);
		close(c);
		if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
			fail(errno, 0);
	}
	struct winsize ws = { .ws_row = (unsigned short)s->f[0].num, .ws_col = (unsigned short)s->f[1].num };
	if (ws.ws_row && ws.ws_col)
		ioctl(master, TIOCSWINSZ, &ws);

	if (console_sock >= 0) {
		if (send_fd(console_sock, master, slave_path) < 0)
			fail(errno, 0);
		close(console_sock);
		console_sock = -1;
	} else {
		/* Stage 0 relays it; wait until it has given the pty the user's terminal size, so the
		 * container's first `stty size` already sees it. */
		char tag = 'P';
		if (write(sync_fd, &tag, 1) != 1 || send_fd(sync_fd, master, slave_path) < 0)
			fail(errno, 0);
		wait_for_parent('A');
	}
	close(master);
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, 0);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			fail(errno, 0);
	pty_made = 1;
	if (slave > 2)
		close(slave);
}

static int make_signalfd(void)
{
	sigset_t all;
	sigfillset(&all);
	return signalfd(-1, &all, SFD_CLOEXEC);
}

/* A signal for the monitor: forward it to the container, or learn the container exited. */
static int handle_signal(int sfd, pid_t child, int master, int *status)
{
	struct signalfd_siginfo si;
	if (read(sfd, &si, sizeof si) != sizeof si)
		return 0;
	if (si.ssi_signo == SIGCHLD) {
		pid_t r = waitpid(child, status, WNOHANG);
		return r == child;
	}
	if (si.ssi_signo == SIGWINCH && master >= 0) {
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
		return 0;
	}
	kill(child, (int)si.ssi_signo);
	return 0;
}

int wait_forwarding(pid_t child)
{
	int status = 0, sfd = make_signalfd();
	/* The child may have exited before the signalfd existed: check once first. */
	if (waitpid(child, &status, WNOHANG) == child)
		return status;
	for (;;)
		if (handle_signal(sfd, child, -1, &status))
			return status;
}

static int copy_once(int from, int to)
{
	char buf[16384];
	ssize_t r = read(from, buf, sizeof buf);
	if (r <= 0)
		return r < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	for (ssize_t off = 0; off < r;) {
		ssize_t w = write(to, buf + off, (size_t)(r - off));
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		off += w;
	}
	return 1;
}

int relay_and_wait(pid_t child, int master)
{
	struct termios saved, raw;
	int tty = isatty(0) && tcgetattr(0, &saved) == 0;
	int status = 0, exited = 0, sfd = make_signalfd();

	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	struct pollfd p[3] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = master, .events = POLLIN },
		{ .fd = 0, .events = POLLIN },
	};
	if (waitpid(child, &status, WNOHANG) == child)
		exited = 1;
	while (p[1].fd >= 0) {
		if (poll(p, 3, exited ? 100 : -1) <= 0) {
			if (exited)
				break; /* container gone and the pty went quiet */
			continue;
		}
		if (p[0].revents & POLLIN && handle_signal(sfd, child, master, &status))
			exited = 1;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (copy_once(master, 1) < 0)
				p[1].fd = -1; /* EIO: no process holds the slave any more */
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (copy_once(0, master) < 0) {
				p[2].fd = -1; /* our stdin ended: pass the end on as the terminal's EOF */
				if (!tty) {
					char eof = 4;
					if (write(master, &eof, 1) < 0) { /* nothing more to do */ }
				}
			}
		}
	}
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	if (!exited)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
	return status;
}
