// SPDX-License-Identifier: Apache-2.0
/*
 * vsock-echo: a tiny AF_VSOCK tool for the default guest (busybox has no
 * vsock support). Built static by guest/tools/build.sh.
 *
 *   vsock-echo cid                          print the local CID
 *   vsock-echo listen PORT [COUNT [SECS]]   echo server: serve COUNT
 *                                           connections (default 1), one
 *                                           at a time, each until EOF
 *   vsock-echo connect CID PORT MSG [SECS]  send MSG and a newline, shut
 *                                           down writing, print what
 *                                           comes back until EOF
 *
 * SECS (default 120) bounds the whole run (alarm). Output lines start
 * with "vsock-echo:" for tests to find; the exit status is 0 on success.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static void die(const char *what)
{
	printf("vsock-echo: error: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end) {
		printf("vsock-echo: error: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void on_alarm(int sig)
{
	static const char msg[] = "vsock-echo: error: timed out\n";

	(void)sig;
	(void)!write(1, msg, sizeof(msg) - 1);
	_exit(3);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cmd_cid(void)
{
	unsigned int cid = 0;
	int fd = open("/dev/vsock", O_RDONLY);

	if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
		die("/dev/vsock");
	printf("vsock-echo: cid %u\n", cid);
	return 0;
}

static int cmd_listen(unsigned port, unsigned long count)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port,
	};
	static char buf[65536];
	int lfd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (lfd < 0)
		die("socket");
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	if (listen(lfd, 4) < 0)
		die("listen");
	printf("vsock-echo: listening on port %u\n", port);
	fflush(stdout);
	for (unsigned long i = 0; i < count; i++) {
		struct sockaddr_vm peer;
		socklen_t len = sizeof(peer);
		unsigned long long total = 0;
		int fd = accept(lfd, (struct sockaddr *)&peer, &len);
		ssize_t n;

		if (fd < 0)
			die("accept");
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			if (write_all(fd, buf, (size_t)n) < 0)
				die("write");
			total += (unsigned long long)n;
		}
		if (n < 0)
			die("read");
		close(fd);
		printf("vsock-echo: echoed %llu bytes to cid %u port %u\n", total, peer.svm_cid,
		       peer.svm_port);
		fflush(stdout);
	}
	close(lfd);
	return 0;
}

static int cmd_connect(unsigned cid, unsigned port, const char *msg)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if (write_all(fd, msg, strlen(msg)) < 0 || write_all(fd, "\n", 1) < 0)
		die("write");
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		got += (size_t)n;
	}
	buf[got] = 0;
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = 0;
	printf("vsock-echo: reply: %s\n", buf);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long secs = 120;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	if (argc == 2 && !strcmp(argv[1], "cid"))
		return cmd_cid();
	if (argc >= 3 && argc <= 5 && !strcmp(argv[1], "listen")) {
		if (argc == 5)
			secs = num(argv[4]);
		alarm((unsigned)secs);
		return cmd_listen((unsigned)num(argv[2]), argc >= 4 ? num(argv[3]) : 1);
	}
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "connect")) {
		if (argc == 6)
			secs = num(argv[5]);
		alarm((unsigned)secs);
		return cmd_connect((unsigned)num(argv[2]), (unsigned)num(argv[3]), argv[4]);
	}
	fprintf(stderr, "usage: vsock-echo cid | listen PORT [COUNT [SECS]] | "
			"connect CID PORT MSG [SECS]\n");
	return 2;
}
