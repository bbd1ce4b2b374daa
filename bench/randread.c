// SPDX-License-Identifier: Apache-2.0
/*
 * randread - host-side reference for bench/virtio_user.sh: random reads
 * of BS bytes with pread() from the first MIB MiB of FILE, COUNT in all,
 * spread over THREADS threads (THREADS = the queue depth), with the same
 * LCG as blk_bench. Prints "randread IOPS N us U".
 *
 *   randread FILE BS MIB COUNT THREADS [direct]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct worker {
	pthread_t thread;
	int fd;
	uint64_t seed, count, blocks, bs;
	int err;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;
	void *buf;

	if (posix_memalign(&buf, 4096, w->bs)) {
		w->err = ENOMEM;
		return NULL;
	}
	for (uint64_t i = 0; i < w->count; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		off_t off = (off_t)(((x >> 24) % w->blocks) * w->bs);

		if (pread(w->fd, buf, w->bs, off) != (ssize_t)w->bs) {
			w->err = errno ? errno : EIO;
			break;
		}
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct worker *ws;
	uint64_t bs, mib, count, nthreads, us;
	int fd;

	if (argc < 6) {
		fprintf(stderr, "usage: randread FILE BS MIB COUNT THREADS [direct]\n");
		return 2;
	}
	bs = strtoull(argv[2], NULL, 0);
	mib = strtoull(argv[3], NULL, 0);
	count = strtoull(argv[4], NULL, 0);
	nthreads = strtoull(argv[5], NULL, 0);
	if (!bs || !mib || !count || !nthreads || nthreads > 256) {
		fprintf(stderr, "randread: bad arguments\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | (argc > 6 && !strcmp(argv[6], "direct") ? O_DIRECT : 0));
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	ws = calloc(nthreads, sizeof(*ws));
	if (!ws)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < nthreads; i++) {
		ws[i] = (struct worker){ .fd = fd, .seed = 0x1234567 + i * 7919,
					 .count = count / nthreads + (i < count % nthreads),
					 .blocks = mib * 1024 * 1024 / bs, .bs = bs };
		if (pthread_create(&ws[i].thread, NULL, work, &ws[i])) {
			fprintf(stderr, "randread: pthread_create failed\n");
			return 1;
		}
	}
	for (uint64_t i = 0; i < nthreads; i++) {
		pthread_join(ws[i].thread, NULL);
		if (ws[i].err) {
			fprintf(stderr, "randread: pread: %s\n", strerror(ws[i].err));
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
	     (uint64_t)((t1.tv_nsec - t0.tv_nsec) / 1000);
	printf("randread IOPS %llu us %llu\n",
	       (unsigned long long)(us ? count * 1000000 / us : 0), (unsigned long long)us);
	free(ws);
	close(fd);
	return 0;
}
