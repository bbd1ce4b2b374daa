// SPDX-License-Identifier: Apache-2.0
/*
 * iobench: the I/O patterns of bench/io.py, as one static program that
 * runs the same way in the guest (against /dev/vda, over the tap) and on
 * the host (against the image file, over the host end of the tap), so
 * that both sides measure exactly the same loop.
 *
 *   iobench seqread  PATH MIB BLOCK     sequential reads, BLOCK bytes each
 *   iobench seqwrite PATH MIB BLOCK     sequential writes, then fdatasync
 *   iobench randread PATH SECONDS       4 KiB reads at random aligned offsets
 *   iobench randwrite PATH SECONDS      4 KiB writes at random aligned offsets
 *   iobench tcp-send HOST PORT MIB      connect and send MIB MiB
 *   iobench tcp-recv HOST PORT          connect and receive until EOF
 *
 * Files and block devices are opened with O_DIRECT (unless IOBENCH_BUFFERED
 * is set in the environment, or the file system refuses O_DIRECT), so the
 * guest's own page cache is not measured. Each run prints one line:
 *   iobench: seqread bs=1048576 direct: 64 MiB in 0.512 s = 131.07 MB/s
 *   iobench: randread bs=4096 direct: 5000 ops in 2.000 s = 2500 IOPS
 * MB is 10^6 bytes. Exit status 0, or 1 with a message on errors.
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/fs.h>

#define SMALL 4096
#define ALIGN 4096
#define NET_CHUNK (256 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "iobench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *xbuf(size_t len, unsigned char fill)
{
	void *p = NULL;

	if (posix_memalign(&p, ALIGN, len))
		die("posix_memalign");
	memset(p, fill, len);
	return p;
}

struct target {
	int fd;
	bool direct;
	uint64_t size;
};

static struct target open_target(const char *path, bool write)
{
	struct target t = { .fd = -1 };
	int flags = (write ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	struct stat st;

	if (!getenv("IOBENCH_BUFFERED")) {
		t.fd = open(path, flags | O_DIRECT);
		t.direct = t.fd >= 0;
	}
	if (t.fd < 0)
		t.fd = open(path, flags);
	if (t.fd < 0)
		die(path);
	if (fstat(t.fd, &st) < 0)
		die("fstat");
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(t.fd, BLKGETSIZE64, &t.size) < 0)
			die("BLKGETSIZE64");
	} else {
		t.size = (uint64_t)st.st_size;
	}
	return t;
}

static void report_bytes(const char *what, size_t bs, bool direct, uint64_t bytes, double secs)
{
	printf("iobench: %s bs=%zu %s: %" PRIu64 " MiB in %.3f s = %.2f MB/s\n", what, bs,
	       direct ? "direct" : "buffered", bytes >> 20, secs, (double)bytes / secs / 1e6);
}

static int seq(const char *path, uint64_t mib, size_t bs, bool write)
{
	struct target t = open_target(path, write);
	uint64_t total = mib << 20, done = 0;
	unsigned char *buf = xbuf(bs, 0x5a);
	double t0;

	if (bs == 0 || bs % 512)
		die("block size must be a multiple of 512");
	if (total > t.size)
		total = t.size - t.size % bs;
	t0 = now();
	while (done < total) {
		ssize_t n = write ? pwrite(t.fd, buf, bs, (off_t)done)
				  : pread(t.fd, buf, bs, (off_t)done);

		if (n < 0)
			die(write ? "pwrite" : "pread");
		if (n == 0)
			break;
		done += (uint64_t)n;
	}
	if (write && fdatasync(t.fd) < 0)
		die("fdatasync");
	report_bytes(write ? "seqwrite" : "seqread", bs, t.direct, done, now() - t0);
	free(buf);
	close(t.fd);
	return 0;
}

/* xorshift64*: reproducible offsets, the same sequence on both sides. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static int rnd(const char *path, double seconds, bool write)
{
	struct target t = open_target(path, write);
	unsigned char *buf = xbuf(SMALL, 0xa5);
	uint64_t blocks = t.size / SMALL, ops = 0, s = 88172645463325252ULL;
	double t0, t1;

	if (blocks == 0)
		die("target smaller than one block");
	t0 = now();
	do {
		/* check the clock every 64 operations */
		for (int i = 0; i < 64; i++) {
			off_t off = (off_t)(next_rand(&s) % blocks * SMALL);
			ssize_t n = write ? pwrite(t.fd, buf, SMALL, off) : pread(t.fd, buf, SMALL, off);

			if (n != SMALL)
				die(write ? "pwrite" : "pread");
			ops++;
		}
		t1 = now();
	} while (t1 - t0 < seconds);
	if (write && fdatasync(t.fd) < 0)
		die("fdatasync");
	printf("iobench: %s bs=%d %s: %" PRIu64 " ops in %.3f s = %.0f IOPS\n",
	       write ? "randwrite" : "randread", SMALL, t.direct ? "direct" : "buffered", ops,
	       t1 - t0, (double)ops / (t1 - t0));
	free(buf);
	close(t.fd);
	return 0;
}

static int tcp_connect(const char *host, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1;

	sa.sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "iobench: bad IPv4 address %s\n", host);
		exit(1);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	/* the peer may still be starting: retry for up to 30 s */
	for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; i++) {
		if (i == 300 || (errno != ECONNREFUSED && errno != ETIMEDOUT))
			die("connect");
		usleep(100000);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int tcp_send(const char *host, const char *port, uint64_t mib)
{
	int fd = tcp_connect(host, port);
	unsigned char *buf = xbuf(NET_CHUNK, 0x3c);
	uint64_t total = mib << 20, done = 0;
	double t0 = now();

	while (done < total) {
		size_t want = total - done < NET_CHUNK ? (size_t)(total - done) : NET_CHUNK;
		ssize_t n = send(fd, buf, want, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		done += (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	/* wait for the receiver to close: all data has arrived */
	while (recv(fd, buf, NET_CHUNK, 0) > 0)
		;
	printf("iobench: tcp-send: %" PRIu64 " MiB in %.3f s = %.2f Mbit/s\n", done >> 20,
	       now() - t0, (double)done * 8 / (now() - t0) / 1e6);
	free(buf);
	close(fd);
	return 0;
}

static int tcp_recv(const char *host, const char *port)
{
	int fd = tcp_connect(host, port);
	unsigned char *buf = xbuf(NET_CHUNK, 0);
	uint64_t done = 0;
	double t0 = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, NET_CHUNK, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (n == 0)
			break;
		if (done == 0)
			t0 = now();
		done += (uint64_t)n;
	}
	printf("iobench: tcp-recv: %" PRIu64 " MiB in %.3f s = %.2f Mbit/s\n", done >> 20,
	       now() - t0, done ? (double)done * 8 / (now() - t0) / 1e6 : 0.0);
	free(buf);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: iobench seqread|seqwrite PATH MIB BLOCK\n"
			"       iobench randread|randwrite PATH SECONDS\n"
			"       iobench tcp-send HOST PORT MIB | tcp-recv HOST PORT\n");
	exit(1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "seqread") || !strcmp(argv[1], "seqwrite")) {
		if (argc != 5)
			usage();
		return seq(argv[2], strtoull(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			   argv[1][3] == 'w');
	}
	if (!strcmp(argv[1], "randread") || !strcmp(argv[1], "randwrite")) {
		if (argc != 4)
			usage();
		return rnd(argv[2], strtod(argv[3], NULL), argv[1][4] == 'w');
	}
	if (!strcmp(argv[1], "tcp-send") && argc == 5)
		return tcp_send(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (!strcmp(argv[1], "tcp-recv") && argc == 4)
		return tcp_recv(argv[2], argv[3]);
	usage();
	return 1;
}
