// SPDX-License-Identifier: Apache-2.0
/*
 * Device state loads (hw/device_state.h) on hostile bytes: a snapshot
 * file or a migration stream is untrusted, and every device's load() must
 * reject what is wrong with -EBADMSG and a message, never crash, read past
 * the bytes, leak or leave a device that misbehaves afterwards. The input:
 *   0     device: serial, i8042, rtc, virtio-blk, -net, -vsock, -rng,
 *         -balloon, -console (mod 9)
 *   1..   the state handed to that device's load(), on a fresh device
 *         (virtio ones on a 256 KiB guest, hand-built as in
 *         tests/unit/virtio_driver.h).
 * A load that succeeds is followed by resumed() and a kick of every queue
 * (net's rate-limited queues run too), the guest memory being whatever
 * zeros and the device make of it.
 *
 * Seeds: with OSPREY_FUZZ_SEEDS=DIR set, the target writes a valid state
 * of each device (driven into a non-trivial state first) to DIR/seed-<n>
 * and exits; fuzz/corpus/fuzz_device_state/ holds those.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../tests/unit/virtio_driver.h"
#include "base/log.h"
#include "base/state.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "hw/device_state.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "vmm/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (256 * 1024)
#define NDEV 9

static char disk_path[64];
static struct vm_disk_config disk_cfg;
static struct vm_net_config net_cfg;
static struct vm_balloon_config balloon_cfg = { .enabled = true, .target = 1 << 20,
						.stats_interval = 1, .deflate_on_oom = true };
static struct rate_limiter_config limits = {
	.bandwidth = { .size = 1 << 20, .one_time_burst = 4096, .refill_time_ms = 100 },
	.ops = { .size = 100, .refill_time_ms = 1000 },
};

/* One device under test: a legacy one in place, or a virtio one on a vdrv. */
struct fx {
	unsigned kind;
	const struct device_state_ops *ops;
	void *opaque;
	struct serial uart;
	struct i8042 kbc;
	struct rtc rtc;
	struct vdrv *v;
	int net_host;
};

static void fx_init(struct fx *f, unsigned kind)
{
	const struct virtio_dev_ops *ops = NULL;
	void *priv = NULL;

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->net_host = -1;
	switch (kind) {
	case 0:
		serial_init(&f->uart);
		f->ops = &serial_state_ops;
		f->opaque = &f->uart;
		return;
	case 1:
		i8042_init(&f->kbc);
		f->ops = &i8042_state_ops;
		f->opaque = &f->kbc;
		return;
	case 2:
		rtc_init(&f->rtc);
		f->ops = &rtc_state_ops;
		f->opaque = &f->rtc;
		return;
	case 3:
		priv = virtio_blk_alloc(&disk_cfg);
		ops = &virtio_blk_ops;
		f->ops = &virtio_blk_state_ops;
		break;
	case 4: {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
			abort();
		priv = virtio_net_alloc(&net_cfg, sv[0], false);
		f->net_host = sv[1];
		ops = &virtio_net_ops;
		f->ops = &virtio_net_state_ops;
		break;
	}
	case 5:
		priv = virtio_vsock_alloc(3);
		ops = &virtio_vsock_ops;
		f->ops = &virtio_vsock_state_ops;
		break;
	case 6:
		priv = virtio_rng_alloc(&limits);
		ops = &virtio_rng_ops;
		f->ops = &virtio_rng_state_ops;
		break;
	case 7:
		priv = virtio_balloon_alloc(&balloon_cfg);
		ops = &virtio_balloon_ops;
		f->ops = &virtio_balloon_state_ops;
		break;
	default:
		priv = virtio_console_alloc(NULL);
		ops = &virtio_console_ops;
		f->ops = &virtio_console_state_ops;
		break;
	}
	if (!priv)
		abort();
	f->v = vd_new(ops, priv, RAM);
	if (!f->v)
		abort();
	if (kind == 5)
		virtio_vsock_attach(&f->v->d);
	if (kind == 8)
		((struct virtio_console *)priv)->d = &f->v->d;
	f->opaque = &f->v->d;
}

static void fx_fini(struct fx *f)
{
	if (f->v)
		vd_free(f->v);
	if (f->net_host >= 0)
		close(f->net_host);
	if (f->kind == 0)
		pthread_mutex_destroy(&f->uart.lock);
	else if (f->kind == 1)
		pthread_mutex_destroy(&f->kbc.lock);
	else if (f->kind == 2)
		pthread_mutex_destroy(&f->rtc.lock);
}

/* After a load: what resuming and a guest's kicks would do. */
static void fx_exercise(struct fx *f)
{
	if (f->ops->resumed)
		f->ops->resumed(f->opaque);
	switch (f->kind) {
	case 0:
		for (unsigned reg = 0; reg < 8; reg++)
			serial_read(&f->uart, reg);
		return;
	case 1:
		i8042_read(&f->kbc, 0x64);
		i8042_read(&f->kbc, 0x60);
		return;
	case 2:
		for (unsigned reg = 0; reg < 128; reg += 1) {
			rtc_write(&f->rtc, 0x70, (uint8_t)reg);
			rtc_read(&f->rtc, 0x71);
		}
		return;
	default:
		break;
	}
	for (unsigned q = 0; q < f->v->d.ops->nqueues; q++)
		vd_kick(f->v, q);
	virtio_dev_throttle_expired(&f->v->d);
	if (f->kind == 4) {
		static const uint8_t pkt[VIRTIO_NET_HDR_LEN + 60];

		(void)!send(f->net_host, pkt, sizeof(pkt), 0);
		virtio_net_tap_event(&f->v->d, 1 /* EPOLLIN */);
	}
	if (f->kind == 7) {
		pthread_mutex_lock(&f->v->d.lock);
		virtio_balloon_request_stats(&f->v->d);
		pthread_mutex_unlock(&f->v->d.lock);
	}
	if (f->kind == 8)
		virtio_console_sink(&f->v->d, (const uint8_t *)"in", 2);
}

/* ---- seeds: each device in a non-trivial state, saved ---- */

static void seed_drive(struct fx *f)
{
	struct vdrv *v = f->v;

	switch (f->kind) {
	case 0:
		serial_write(&f->uart, UART_LCR, 0x03);
		serial_write(&f->uart, UART_IER, UART_IER_RDI | UART_IER_THRI);
		serial_write(&f->uart, UART_SCR, 0x42);
		serial_receive(&f->uart, (const uint8_t *)"seed", 4);
		return;
	case 1:
		i8042_write(&f->kbc, 0x60, 0xf2);
		i8042_write(&f->kbc, 0x64, 0xd1);
		return;
	case 2:
		rtc_write(&f->rtc, 0x70, 0x30);
		rtc_write(&f->rtc, 0x71, 0x99);
		return;
	default:
		break;
	}
	vd_setup(v, (1ULL << VIRTIO_F_EVENT_IDX) | (v->d.ops->features ?
							  v->d.ops->features(&v->d) & 0xffff : 0),
		 v->d.ops->nqueues, true);
	for (unsigned q = 0; q < v->d.ops->nqueues; q++)
		vd_add1(v, q, 0x30000 + 0x1000ULL * q, 512, q == 0 || f->kind == 5 || f->kind == 6);
	if (f->kind == 8)
		virtio_console_sink(&v->d, (const uint8_t *)"typed", 5);
}

static void write_seeds(const char *dir)
{
	for (unsigned kind = 0; kind < NDEV; kind++) {
		struct state_writer w;
		char path[512];
		uint8_t k = (uint8_t)kind;
		struct fx f;
		FILE *out;

		fx_init(&f, kind);
		seed_drive(&f);
		state_writer_init(&w);
		if (f.ops->save(f.opaque, &w))
			abort();
		snprintf(path, sizeof(path), "%s/seed-%u", dir, kind);
		out = fopen(path, "wb");
		if (!out || fwrite(&k, 1, 1, out) != 1 || fwrite(w.buf, 1, w.len, out) != w.len ||
		    fclose(out))
			abort();
		state_writer_free(&w);
		fx_fini(&f);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t sector[512] = { 0xa5 };
	const char *seeds = getenv("OSPREY_FUZZ_SEEDS");
	int fd;

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	/* A 64-sector disk in memory, opened by path like any image. */
	fd = memfd_create("fuzz-disk", 0);
	if (fd < 0)
		abort();
	for (int i = 0; i < 64; i++)
		if (write(fd, sector, sizeof(sector)) != (ssize_t)sizeof(sector))
			abort();
	snprintf(disk_path, sizeof(disk_path), "/proc/self/fd/%d", fd);
	disk_cfg.path = disk_path;
	disk_cfg.id = "fuzz";
	disk_cfg.cache = DISK_CACHE_WRITEBACK;
	disk_cfg.rate_limit = limits;
	net_cfg.tap = "fuzz-tap";
	net_cfg.rx_rate_limit = limits;
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[STATE_ERR_MAX];
	struct state_reader r;
	struct fx f;
	int ret;

	if (size < 1)
		return 0;
	fx_init(&f, data[0] % NDEV);
	state_reader_init(&r, data + 1, size - 1);
	err[0] = 0;
	ret = f.ops->load(f.opaque, &r, err, sizeof(err));
	if (ret) {
		/* Refused: with the one error and a message saying why. */
		if (ret != -EBADMSG || !err[0])
			abort();
	} else {
		fx_exercise(&f);
	}
	fx_fini(&f);
	return 0;
}
