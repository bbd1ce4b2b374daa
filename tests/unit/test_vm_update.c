// SPDX-License-Identifier: Apache-2.0
/*
 * vmm/vm_update: run-time disk and interface updates on devices driven
 * over hand-built rings (no KVM): ids, a new image (capacity and the
 * config-change interrupt, the new contents, a bad path changes nothing),
 * new limits that release a paused queue.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "virtio/blk.h"
#include "virtio/net.h"
#include "virtio_driver.h"
#include "vmm/vm.h"

#define RAM (1 << 20)
#define HDR 0x30000ULL
#define DATA 0x40000ULL

static char err[256];

static void make_image(char *path, size_t len, unsigned sectors, uint8_t fill)
{
	uint8_t buf[512];
	int fd;

	snprintf(path, len, "/tmp/osprey-upd-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, sizeof(buf));
	for (unsigned i = 0; i < sectors; i++)
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
}

struct fx {
	struct vm_config cfg;
	char img_a[64], img_b[64];
	struct vdrv *v;
	unsigned nreq;
};

static void start(struct fx *f, const struct rate_limiter_config *rl, bool ro)
{
	void *b;

	memset(f, 0, sizeof(*f));
	vm_config_init(&f->cfg);
	make_image(f->img_a, sizeof(f->img_a), 16, 0xa1);
	make_image(f->img_b, sizeof(f->img_b), 64, 0xb2);
	f->cfg.ndisks = 1;
	f->cfg.disks[0].path = f->img_a;
	f->cfg.disks[0].id = "root";
	f->cfg.disks[0].read_only = ro;
	if (rl)
		f->cfg.disks[0].rate_limit = *rl;
	b = virtio_blk_alloc(&f->cfg.disks[0]);
	assert_non_null(b);
	f->v = vd_new(&virtio_blk_ops, b, RAM);
	assert_non_null(f->v);
	f->v->vm->cfg = &f->cfg;
	f->v->vm->disk_devs[0] = &f->v->d;
	assert_true(vd_setup(f->v, 0, 1, true) & VIRTIO_STATUS_DRIVER_OK);
}

static void stop(struct fx *f)
{
	vd_free(f->v);
	unlink(f->img_a);
	unlink(f->img_b);
}

static uint64_t capacity(struct fx *f)
{
	uint64_t lo = vd_r32(f->v, VIRTIO_MMIO_CONFIG), hi = vd_r32(f->v, VIRTIO_MMIO_CONFIG + 4);

	return lo | hi << 32;
}

/* A 512-byte read of sector 0; returns its buffer. */
static uint8_t *read_req(struct fx *f)
{
	unsigned i = f->nreq++;
	gpa_t h = HDR + 16ULL * i, d = DATA + 0x1000ULL * i;
	uint32_t type = VIRTIO_BLK_T_IN;
	struct vd_seg segs[2] = { { h, 16, false }, { d, 513, true } };

	memset(vd_ptr(f->v, h, 16), 0, 16);
	memcpy(vd_ptr(f->v, h, 4), &type, 4);
	memset(vd_ptr(f->v, d, 513), 0, 513);
	vd_add(f->v, 0, segs, 2);
	return vd_ptr(f->v, d, 513);
}

static void test_unknown_ids(void **state)
{
	struct fx f;

	(void)state;
	start(&f, NULL, false);
	assert_int_equal(vm_update_disk(f.v->vm, "nope", f.img_b, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(vm_update_disk(f.v->vm, NULL, f.img_b, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(vm_update_disk(f.v->vm, "root", "", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(vm_update_net(f.v->vm, "eth0", NULL, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "eth0"));
	stop(&f);
}

static void test_new_image(void **state)
{
	struct fx f;
	uint32_t gen;
	uint8_t *buf;

	(void)state;
	start(&f, NULL, true);
	assert_int_equal(capacity(&f), 16);
	buf = read_req(&f);
	vd_kick(f.v, 0);
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_int_equal(buf[0], 0xa1);
	gen = vd_r32(f.v, VIRTIO_MMIO_CONFIG_GENERATION);

	assert_int_equal(vm_update_disk(f.v->vm, "root", f.img_b, NULL, err, sizeof(err)), 0);
	assert_int_equal(capacity(&f), 64);
	assert_int_equal(vd_r32(f.v, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
	assert_true(vd_r32(f.v, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
	buf = read_req(&f);
	vd_kick(f.v, 0);
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_int_equal(buf[0], 0xb2);
	assert_int_equal(buf[512], VIRTIO_BLK_S_OK);
	/* still read-only: the device offers RO, the feature set is unchanged */
	vd_w32(f.v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(vd_r32(f.v, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->update_count, 1);

	/* a bad path changes nothing */
	assert_int_equal(vm_update_disk(f.v->vm, "root", "/nonexistent/img", NULL, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/img"));
	assert_int_equal(capacity(&f), 64);
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->update_fails, 1);
	buf = read_req(&f);
	vd_kick(f.v, 0);
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_int_equal(buf[0], 0xb2);

	/* the same size again: no config change */
	gen = vd_r32(f.v, VIRTIO_MMIO_CONFIG_GENERATION);
	assert_int_equal(vm_update_disk(f.v->vm, "root", f.img_b, NULL, err, sizeof(err)), 0);
	assert_int_equal(vd_r32(f.v, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	stop(&f);
}

static void test_new_limits_release_queue(void **state)
{
	struct rate_limiter_config slow = { .ops = { .size = 1, .refill_time_ms = 100000 } };
	struct rate_limiter_config none;
	struct fx f;

	(void)state;
	memset(&none, 0, sizeof(none));
	start(&f, &slow, false);
	read_req(&f);
	read_req(&f);
	read_req(&f);
	vd_kick(f.v, 0);
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_true(vd_used(f.v, 0, NULL) < 0);
	assert_true(virtio_dev_throttled(&f.v->d, 0));
	/* path NULL: only the limits change */
	assert_int_equal(vm_update_disk(f.v->vm, "root", NULL, &none, err, sizeof(err)), 0);
	assert_true(vd_wait_throttle(f.v, 1000));
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_true(vd_used(f.v, 0, NULL) >= 0);
	assert_false(virtio_dev_throttled(&f.v->d, 0));
	assert_int_equal(capacity(&f), 16);
	stop(&f);
}

static void test_net_ids(void **state)
{
	struct rate_limiter_config tx = { .ops = { .size = 5, .refill_time_ms = 10 } };
	struct vm_config cfg;
	struct vdrv *v;
	int sv[2];
	void *n;

	(void)state;
	vm_config_init(&cfg);
	cfg.nnets = 2;
	cfg.nets[0].tap = "tap-a";
	cfg.nets[1].tap = "tap-b";
	cfg.nets[1].id = "eth1";
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	close(sv[1]);
	n = virtio_net_alloc(&cfg.nets[0], sv[0], false);
	v = vd_new(&virtio_net_ops, n, RAM);
	assert_non_null(v);
	v->vm->cfg = &cfg;
	v->vm->net_devs[0] = &v->d; /* the default id is the tap name */
	assert_int_equal(vm_update_net(v->vm, "tap-a", NULL, &tx, err, sizeof(err)), 0);
	assert_int_equal(virtio_net_get_metrics(&v->d)->update_count, 1);
	assert_int_equal(vm_update_net(v->vm, "eth1", &tx, NULL, err, sizeof(err)), -ENOENT);
	assert_int_equal(vm_update_net(v->vm, "tap-b", &tx, NULL, err, sizeof(err)), -ENOENT);
	vd_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_ids),
		cmocka_unit_test(test_new_image),
		cmocka_unit_test(test_new_limits_release_queue),
		cmocka_unit_test(test_net_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
