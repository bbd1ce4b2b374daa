// SPDX-License-Identifier: Apache-2.0
/*
 * The accelerator layer without an accelerator: choosing one by name
 * (accel.c), virtio's level-triggered interrupt line through a recording
 * backend (no irqfd), and the guest-memory write hook that device DMA
 * reports to (what the software CPU uses to drop decoded code).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "accel/accel.h"
#include "base/log.h"
#include "virtio/blk.h"
#include "virtio_driver.h"

/*
 * mmio.c pulls in vm.c, which walks the osprey_devices linker section;
 * linking one device object from the archive makes the linker define it.
 */
void (*volatile unit_keep_device)(struct virtq_elem *, uint64_t, bool, bool,
				  struct virtio_blk_req *) = virtio_blk_parse;

/* ---- choosing ---- */

static void test_find_and_select(void **state)
{
	const struct accel_ops *a = NULL;
	char err[128] = "";

	(void)state;
	assert_ptr_equal(accel_find("kvm"), &accel_kvm_ops);
	assert_ptr_equal(accel_find("soft"), &accel_soft_ops);
	assert_null(accel_find("tcg"));
	assert_null(accel_find("auto")); /* resolved by accel_select */
	assert_null(accel_find(""));
	assert_string_equal(accel_kvm_ops.name, "kvm");
	assert_string_equal(accel_soft_ops.name, "soft");

	assert_int_equal(accel_select("soft", &a, err, sizeof(err)), 0);
	assert_ptr_equal(a, &accel_soft_ops);
	assert_int_equal(accel_select("kvm", &a, err, sizeof(err)), 0);
	assert_ptr_equal(a, &accel_kvm_ops);
	assert_int_equal(accel_select("bogus", &a, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown accelerator 'bogus'"));
	/* auto: KVM exactly when /dev/kvm opens. */
	assert_int_equal(accel_select("auto", &a, err, sizeof(err)), 0);
	assert_ptr_equal(a, accel_kvm_available() ? &accel_kvm_ops : &accel_soft_ops);
	assert_int_equal(accel_select(NULL, &a, err, sizeof(err)), 0);
	assert_ptr_equal(a, accel_kvm_available() ? &accel_kvm_ops : &accel_soft_ops);
	/* What "auto" means for the CPU template under each backend. */
	assert_string_equal(accel_soft_ops.auto_template(), "soft");
	assert_non_null(accel_kvm_ops.auto_template());
	/* The software CPU has no irqfd or ioeventfd: the MMIO path signals. */
	assert_int_equal(accel_soft_ops.irqfd(NULL, 5, -1), -ENOTSUP);
	assert_int_equal(accel_soft_ops.notify_fd(NULL, 0xd0001050, 0, -1), -ENOTSUP);
}

/* ---- a recording backend ---- */

static int line_level[32];
static unsigned line_calls;

static int rec_irq_line(struct accel_machine *m, unsigned gsi, int level)
{
	(void)m;
	if (gsi < 32)
		line_level[gsi] = level;
	line_calls++;
	return 0;
}

static struct accel_ops rec_ops;

static struct {
	gpa_t gpa[16];
	uint64_t len[16];
	unsigned n;
	unsigned used_ring; /* reports inside queue 0's used ring (its index and slots) */
} written;

static void rec_written(void *opaque, gpa_t gpa, uint64_t len)
{
	gpa_t used = vd_desc(0) + 0x2000;

	(void)opaque;
	if (gpa >= used && gpa + len <= used + 0x1000) {
		written.used_ring++;
		return;
	}
	if (written.n < 16) {
		written.gpa[written.n] = gpa;
		written.len[written.n] = len;
	}
	written.n++;
}

/* A device that completes every chain of queue 0 at once. */
static void echo_notify(struct virtio_dev *d, unsigned q)
{
	struct virtq_elem e;

	while (virtq_pop(&d->vqs[q], &e) == 1)
		virtq_push(&d->vqs[q], e.head, (uint32_t)e.in_len);
	virtio_dev_notify_used(d, q);
}

static const struct virtio_dev_ops echo_ops = {
	.name = "echo",
	.device_id = 99,
	.nqueues = 1,
	.queue_max = VD_QSIZE,
	.queue_notify = echo_notify,
};

/* The device's line goes through the machine, as vm.c's device_env does. */
static int env_irq_line(void *machine, unsigned gsi, int level)
{
	return vm_irq_line(machine, gsi, level);
}

static int dev_setup(void **state)
{
	struct vdrv *v = vd_new(&echo_ops, NULL, 1 << 20);

	if (!v)
		return -1;
	rec_ops = (struct accel_ops){ .name = "rec", .irq_line = rec_irq_line };
	v->vm->accel = &rec_ops;
	v->vm->machine.priv = &rec_ops; /* any non-NULL: the backend is "open" */
	v->vm->dev_env.irq_line = env_irq_line;
	v->d.irq = 7;
	memset(line_level, 0, sizeof(line_level));
	line_calls = 0;
	memset(&written, 0, sizeof(written));
	v->vm->mem.written = rec_written;
	*state = v;
	return 0;
}

static int dev_teardown(void **state)
{
	vd_free(*state);
	return 0;
}

static void test_virtio_level_line(void **state)
{
	struct vdrv *v = *state;

	vd_setup(v, 0, 1, true);
	assert_int_equal(line_calls, 0);
	vd_add1(v, 0, 0x40000, 64, true);
	vd_kick(v, 0);
	/* Used buffer: the line goes up and stays up until acknowledged. */
	assert_int_equal(vd_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED);
	assert_int_equal(line_level[7], 1);
	assert_int_equal(line_calls, 1);
	vd_add1(v, 0, 0x41000, 64, true);
	vd_kick(v, 0);
	assert_int_equal(line_calls, 1); /* already up: no second call */
	/* Acknowledging a bit that is not set changes nothing. */
	vd_w32(v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_CONFIG);
	assert_int_equal(line_level[7], 1);
	vd_w32(v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED);
	assert_int_equal(vd_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(line_level[7], 0);
	assert_int_equal(line_calls, 2);
	/* A config change raises it again; a device reset lowers it. */
	pthread_mutex_lock(&v->d.lock);
	virtio_dev_config_changed(&v->d);
	pthread_mutex_unlock(&v->d.lock);
	assert_int_equal(line_level[7], 1);
	vd_w32(v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(line_level[7], 0);
}

static void test_dma_writes_reported(void **state)
{
	struct vdrv *v = *state;
	struct vd_seg segs[3] = {
		{ .gpa = 0x40000, .len = 16, .write = false },
		{ .gpa = 0x41000, .len = 100, .write = true },
		{ .gpa = 0x42010, .len = 4000, .write = true },
	};

	vd_setup(v, 0, 1, true);
	written.n = 0;
	written.used_ring = 0;
	vd_add(v, 0, segs, 3);
	vd_kick(v, 0);
	/* The used ring the device wrote (entry and index) is reported too. */
	assert_true(written.used_ring >= 1);
	/* Otherwise only the device-writable buffers, each as the driver gave it. */
	assert_int_equal(written.n, 2);
	assert_int_equal(written.gpa[0], 0x41000);
	assert_int_equal(written.len[0], 100);
	assert_int_equal(written.gpa[1], 0x42010);
	assert_int_equal(written.len[1], 4000);
	/* guest_mem_write reports itself; failed writes do not. */
	written.n = 0;
	assert_int_equal(guest_mem_write(&v->vm->mem, 0x5000, "abc", 3), 0);
	assert_int_equal(guest_mem_write(&v->vm->mem, (1 << 20) - 1, "abc", 3), -EFAULT);
	assert_int_equal(written.n, 1);
	assert_int_equal(written.gpa[0], 0x5000);
	assert_int_equal(written.len[0], 3);
	/* Without a hook nothing happens. */
	v->vm->mem.written = NULL;
	guest_mem_written(&v->vm->mem, 0x1000, 8);
	assert_int_equal(written.n, 1);
}

/* Without a backend (device unit tests) the line is a no-op, not a crash. */
static void test_no_backend(void **state)
{
	struct vdrv *v = *state;

	v->vm->accel = NULL;
	v->vm->machine.priv = NULL;
	assert_int_equal(vm_irq_line(v->vm, 7, 1), -ENODEV);
	vd_setup(v, 0, 1, true);
	vd_add1(v, 0, 0x40000, 64, true);
	vd_kick(v, 0);
	assert_int_equal(vd_r32(v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED);
	assert_int_equal(line_calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_and_select),
		cmocka_unit_test_setup_teardown(test_virtio_level_line, dev_setup, dev_teardown),
		cmocka_unit_test_setup_teardown(test_dma_writes_reported, dev_setup, dev_teardown),
		cmocka_unit_test_setup_teardown(test_no_backend, dev_setup, dev_teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
