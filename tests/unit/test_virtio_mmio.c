// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/mmio: the version 2 register model (feature negotiation, status,
 * queue set-up, interrupts, config space) on a hand-built device with a
 * fake ops table, a small guest RAM and no KVM (irq_fd and notify_fd are
 * -1, or plain eventfds where a test wants to see a signal).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "base/util.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "vmm/vm.h"

/*
 * mmio.c pulls in vm.c, which walks the osprey_devices linker section;
 * linking one device object from the archive makes the linker define it.
 */
void (*volatile unit_keep_device)(struct virtq_elem *, uint64_t, bool, bool,
				  struct virtio_blk_req *) = virtio_blk_parse;

#define RAM MiB(1)
#define QMAX 64
#define NQUEUES 2
#define DEV_ID 42
/* Device feature bits the fake offers: one low, one high. */
#define F_LOW 5
#define F_HIGH 40
#define CFG_SIZE 16

#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL

struct fake {
	struct vm *vm;
	struct virtio_dev d;
	uint8_t cfg[CFG_SIZE];
	unsigned config_reads, config_writes, activates, resets;
	uint64_t last_off;
	unsigned last_len;
};

static struct fake *fake_of(struct virtio_dev *d)
{
	return d->priv;
}

static uint64_t fk_features(struct virtio_dev *d)
{
	(void)d;
	return (1ULL << F_LOW) | (1ULL << F_HIGH);
}

static void fk_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct fake *f = fake_of(d);

	f->config_reads++;
	f->last_off = off;
	f->last_len = len;
	for (unsigned i = 0; i < len; i++)
		if (off < CFG_SIZE && i < CFG_SIZE - off)
			data[i] = f->cfg[off + i];
}

static void fk_config_write(struct virtio_dev *d, uint64_t off, const uint8_t *data,
			    unsigned len)
{
	struct fake *f = fake_of(d);

	f->config_writes++;
	f->last_off = off;
	f->last_len = len;
	for (unsigned i = 0; i < len; i++)
		if (off < CFG_SIZE && i < CFG_SIZE - off)
			f->cfg[off + i] = data[i];
}

static void fk_activate(struct virtio_dev *d)
{
	/* the transport has set DRIVER_OK (and FEATURES_OK) before calling */
	assert_true(d->status & VIRTIO_STATUS_DRIVER_OK);
	assert_true(d->status & VIRTIO_STATUS_FEATURES_OK);
	fake_of(d)->activates++;
}

static void fk_reset(struct virtio_dev *d)
{
	fake_of(d)->resets++;
}

static const struct virtio_dev_ops fake_ops = {
	.name = "virtio-fake",
	.device_id = DEV_ID,
	.nqueues = NQUEUES,
	.queue_max = QMAX,
	.features = fk_features,
	.config_read = fk_config_read,
	.config_write = fk_config_write,
	.activate = fk_activate,
	.reset = fk_reset,
};

static int no_irq_line(void *machine, unsigned gsi, int level)
{
	(void)machine;
	(void)gsi;
	(void)level;
	return -ENODEV;
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->vm = calloc(1, sizeof(*f->vm));
	if (!f->vm || guest_mem_init(&f->vm->mem, RAM)) {
		free(f->vm);
		free(f);
		return -1;
	}
	f->d.ops = &fake_ops;
	f->d.priv = f;
	f->vm->dev_env = (struct device_env){
		.machine = f->vm,
		.mem = &f->vm->mem,
		.irq_line = no_irq_line,
	};
	f->d.env = &f->vm->dev_env;
	f->d.irq_fd = f->d.stop_fd = -1;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		f->d.qcfg[i].notify_fd = -1;
	pthread_mutex_init(&f->d.lock, NULL);
	for (unsigned i = 0; i < CFG_SIZE; i++)
		f->cfg[i] = (uint8_t)(0x10 + i);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	if (f->d.irq_fd >= 0)
		close(f->d.irq_fd);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		if (f->d.qcfg[i].notify_fd >= 0)
			close(f->d.qcfg[i].notify_fd);
	pthread_mutex_destroy(&f->d.lock);
	guest_mem_destroy(&f->vm->mem);
	free(f->vm);
	free(f);
	return 0;
}

static uint32_t rd(struct fake *f, uint64_t off)
{
	uint8_t b[4];
	uint32_t v;

	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&f->d, off, b, 4);
	memcpy(&v, b, 4);
	return v;
}

static void wr(struct fake *f, uint64_t off, uint32_t v)
{
	virtio_mmio_write(&f->d, off, (const uint8_t *)&v, 4);
}

static uint32_t status(struct fake *f)
{
	return rd(f, VIRTIO_MMIO_STATUS);
}

static void set_status(struct fake *f, uint32_t v)
{
	wr(f, VIRTIO_MMIO_STATUS, v);
}

static void driver_features(struct fake *f, uint64_t feat)
{
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
}

#define S_AD (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER)
#define S_FOK (S_AD | VIRTIO_STATUS_FEATURES_OK)
#define S_LIVE (S_FOK | VIRTIO_STATUS_DRIVER_OK)
#define V1 (1ULL << VIRTIO_F_VERSION_1)

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK (asserted accepted). */
static void negotiate(struct fake *f, uint64_t feat)
{
	set_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(f, S_AD);
	driver_features(f, feat);
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_FOK);
}

static void queue_addrs(struct fake *f, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
}

/* Selects queue q, sets its size and rings, and makes it ready. */
static void queue_setup(struct fake *f, uint32_t q, uint32_t num, uint64_t desc, uint64_t avail,
			uint64_t used)
{
	wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, num);
	queue_addrs(f, desc, avail, used);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(fd >= 0);
	return fd;
}

/* Eventfd counter (0 when nothing was signalled); resets it. */
static uint64_t efd_count(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* ---- identification ---- */

static void test_ids(void **state)
{
	struct fake *f = *state;

	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC), VIRTIO_MMIO_MAGIC_VALUE);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	assert_int_equal(rd(f, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(status(f), 0);
	/* write-only and reserved registers read as zero */
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_ACK), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_DRIVER_FEATURES), 0);
	assert_int_equal(rd(f, 0x0f8), 0);
	/* writes to read-only registers change nothing */
	wr(f, VIRTIO_MMIO_MAGIC, 0);
	wr(f, VIRTIO_MMIO_DEVICE_ID, 7);
	wr(f, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC), VIRTIO_MMIO_MAGIC_VALUE);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

/* ---- feature negotiation ---- */

static void test_device_features(void **state)
{
	struct fake *f = *state;
	uint32_t lo, hi;

	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	lo = rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	hi = rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_int_equal(lo, (1u << F_LOW) | (1u << VIRTIO_F_INDIRECT_DESC) |
				     (1u << VIRTIO_F_EVENT_IDX));
	assert_int_equal(hi, (1u << (VIRTIO_F_VERSION_1 - 32)) | (1u << (F_HIGH - 32)));
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, UINT32_MAX);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	/* the feature word itself is read-only */
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES), lo);
}

static void test_features_accepted(void **state)
{
	struct fake *f = *state;
	uint64_t want = V1 | (1ULL << F_HIGH) | (1ULL << F_LOW) | (1ULL << VIRTIO_F_EVENT_IDX);

	negotiate(f, want);
	assert_int_equal(f->d.driver_features, want);

	/* VERSION_1 alone is enough */
	set_status(f, 0);
	negotiate(f, V1);
	assert_int_equal(f->d.driver_features, V1);
}

static void test_features_unoffered_refused(void **state)
{
	struct fake *f = *state;

	/* an unoffered low bit */
	set_status(f, S_AD);
	driver_features(f, V1 | (1ULL << 3));
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_AD);

	/* an unoffered high bit */
	set_status(f, 0);
	set_status(f, S_AD);
	driver_features(f, V1 | (1ULL << 63));
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_AD);

	/* once the driver drops it, FEATURES_OK is accepted */
	driver_features(f, V1);
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_FOK);
}

static void test_features_legacy_refused(void **state)
{
	struct fake *f = *state;

	set_status(f, S_AD);
	driver_features(f, 1ULL << F_LOW);
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_AD);
	set_status(f, S_AD);
	driver_features(f, 0);
	set_status(f, S_FOK);
	assert_int_equal(status(f), S_AD);
}

/* A refused negotiation cannot be followed by DRIVER_OK: nothing runs. */
static void test_driver_ok_needs_features_ok(void **state)
{
	struct fake *f = *state;

	set_status(f, S_AD);
	driver_features(f, V1 | (1ULL << 3));
	set_status(f, S_LIVE);
	assert_false(status(f) & VIRTIO_STATUS_DRIVER_OK);
	assert_false(status(f) & VIRTIO_STATUS_FEATURES_OK);
	set_status(f, S_AD | VIRTIO_STATUS_DRIVER_OK);
	assert_false(status(f) & VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->activates, 0);

	/* after a reset and a proper negotiation, DRIVER_OK activates once */
	set_status(f, 0);
	negotiate(f, V1);
	set_status(f, S_LIVE);
	assert_int_equal(status(f), S_LIVE);
	assert_int_equal(f->activates, 1);
	set_status(f, S_LIVE);
	assert_int_equal(f->activates, 1);
}

static void test_features_frozen(void **state)
{
	struct fake *f = *state;

	negotiate(f, V1 | (1ULL << F_LOW));
	driver_features(f, V1 | (1ULL << F_HIGH));
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_LOW));
	driver_features(f, 0);
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_LOW));

	/* a status write without FEATURES_OK does not unfreeze them */
	set_status(f, S_AD);
	driver_features(f, V1 | (1ULL << 3));
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_LOW));
	set_status(f, S_LIVE);
	assert_int_equal(status(f), S_LIVE);
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_LOW));
	set_status(f, S_AD);
	driver_features(f, V1 | (1ULL << 3));
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_LOW));
	assert_true(status(f) & VIRTIO_STATUS_DRIVER_OK);

	/* only a reset does */
	set_status(f, 0);
	assert_int_equal(f->d.driver_features, 0);
	driver_features(f, V1 | (1ULL << F_HIGH));
	assert_int_equal(f->d.driver_features, V1 | (1ULL << F_HIGH));
}

static void test_driver_features_sel(void **state)
{
	struct fake *f = *state;

	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 0x12345678);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 0x9abcdef0);
	assert_int_equal(f->d.driver_features, 0x9abcdef012345678ULL);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, UINT32_MAX);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	assert_int_equal(f->d.driver_features, 0x9abcdef012345678ULL);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	assert_int_equal(f->d.driver_features, 0x9abcdef000000001ULL);
}

/* ---- queues ---- */

static void test_queue_num_max(void **state)
{
	static const uint32_t sels[] = { NQUEUES, NQUEUES + 1, VIRTIO_MMIO_MAX_QUEUES,
					 0x10000, UINT32_MAX };
	struct fake *f = *state;

	for (uint32_t q = 0; q < NQUEUES; q++) {
		wr(f, VIRTIO_MMIO_QUEUE_SEL, q);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	}
	negotiate(f, V1);
	for (size_t i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		wr(f, VIRTIO_MMIO_QUEUE_SEL, sels[i]);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		/* set-up of a queue that does not exist does nothing */
		wr(f, VIRTIO_MMIO_QUEUE_NUM, 16);
		queue_addrs(f, DESC, AVAIL, USED);
		wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
		wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, sels[i]);
	}
	assert_int_equal(status(f), S_FOK); /* not NEEDS_RESET either */
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		assert_int_equal(f->d.qcfg[q].num, 0);
		assert_int_equal(f->d.qcfg[q].desc, 0);
		assert_false(f->d.qcfg[q].ready);
		assert_int_equal(f->d.vqs[q].size, 0);
	}
}

static void test_queue_setup(void **state)
{
	struct fake *f = *state;
	struct virtq *vq = &f->d.vqs[1];

	negotiate(f, V1 | (1ULL << VIRTIO_F_EVENT_IDX));
	queue_setup(f, 1, 16, DESC, AVAIL, USED);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(vq->size, 16);
	assert_int_equal(vq->desc_gpa, DESC);
	assert_int_equal(vq->avail_gpa, AVAIL);
	assert_int_equal(vq->used_gpa, USED);
	assert_true(vq->event_idx);
	assert_false(vq->indirect);
	assert_ptr_equal(vq->mem, &f->vm->mem);
	/* queue 0 is untouched */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(f->d.vqs[0].size, 0);

	/* both halves of each address; the largest queue at the end of RAM */
	queue_setup(f, 0, QMAX, RAM - 0x1000, RAM - 0x1000 + 16 * QMAX, RAM - 0x800);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(f->d.vqs[0].size, QMAX);
	assert_int_equal(f->d.qcfg[0].used, RAM - 0x800);
	assert_int_equal(status(f), S_FOK);

	/* QueueReady 0 takes the queue down */
	wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(f->d.vqs[0].size, 0);
	assert_int_equal(f->d.vqs[1].size, 16);
}

static void test_queue_high_address_words(void **state)
{
	struct fake *f = *state;

	negotiate(f, V1);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x11111110);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x22222222);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x33333332);
	wr(f, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0x44444444);
	wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, 0x55555554);
	wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, 0x66666666);
	assert_int_equal(f->d.qcfg[0].desc, 0x2222222211111110ULL);
	assert_int_equal(f->d.qcfg[0].avail, 0x4444444433333332ULL);
	assert_int_equal(f->d.qcfg[0].used, 0x6666666655555554ULL);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x100);
	assert_int_equal(f->d.qcfg[0].desc, 0x2222222200000100ULL);
	/* rings above RAM: the queue is refused */
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_num_checks(void **state)
{
	struct fake *f = *state;

	negotiate(f, V1);
	/* larger than QueueNumMax: not taken, the queue cannot start */
	queue_setup(f, 0, QMAX + 1, DESC, AVAIL, USED);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->d.vqs[0].size, 0);

	set_status(f, 0);
	negotiate(f, V1);
	queue_setup(f, 0, 0x10010, DESC, AVAIL, USED); /* 16 in the low half */
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);

	/* not a power of two */
	set_status(f, 0);
	negotiate(f, V1);
	queue_setup(f, 0, 24, DESC, AVAIL, USED);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);

	/* never set */
	set_status(f, 0);
	negotiate(f, V1);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	queue_addrs(f, DESC, AVAIL, USED);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);

	/* QueueNumMax itself and 1 are fine */
	set_status(f, 0);
	negotiate(f, V1);
	queue_setup(f, 0, QMAX, DESC, AVAIL, USED);
	queue_setup(f, 1, 1, DESC + 0x800, AVAIL + 0x800, USED + 0x800);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(status(f), S_FOK);
}

static void test_queue_outside_ram_needs_reset(void **state)
{
	static const uint64_t bad[][3] = {
		{ RAM, AVAIL, USED },			   /* desc past the end */
		{ DESC, RAM - 2, USED },		   /* avail straddles the end */
		{ DESC, AVAIL, RAM - 4 },		   /* used straddles the end */
		{ DESC, AVAIL, 0xfffffffffffff000ULL },	   /* wraps */
		{ MMIO_HOLE_START, AVAIL, USED },	   /* the MMIO hole */
		{ DESC + 8, AVAIL, USED },		   /* misaligned desc */
		{ DESC, AVAIL + 1, USED },		   /* misaligned avail */
		{ DESC, AVAIL, USED + 2 },		   /* misaligned used */
	};
	struct fake *f = *state;
	uint64_t errors;
	int irq;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_status(f, 0);
		negotiate(f, V1);
		queue_setup(f, 0, 16, bad[i][0], bad[i][1], bad[i][2]);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(f->d.vqs[0].size, 0);
		assert_int_equal(status(f), S_FOK | VIRTIO_STATUS_NEEDS_RESET);
	}

	/* NEEDS_RESET survives any status write but 0 */
	set_status(f, S_LIVE);
	assert_int_equal(status(f), S_LIVE | VIRTIO_STATUS_NEEDS_RESET);
	set_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	set_status(f, 0);
	assert_int_equal(status(f), 0);

	/* after DRIVER_OK, NEEDS_RESET also raises a config interrupt */
	irq = f->d.irq_fd = new_eventfd();
	negotiate(f, V1);
	queue_setup(f, 0, 16, DESC, AVAIL, USED);
	set_status(f, S_LIVE);
	assert_int_equal(efd_count(irq), 0);
	queue_setup(f, 1, 16, RAM, AVAIL, USED);
	assert_int_equal(status(f), S_LIVE | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_CONFIG);
	assert_int_equal(efd_count(irq), 1);
	/* a second error is counted, not signalled again */
	errors = f->d.errors;
	queue_setup(f, 1, 16, RAM, AVAIL, USED);
	assert_int_equal(efd_count(irq), 0);
	assert_int_equal(f->d.errors, errors + 1);
}

/* The driver cannot set NEEDS_RESET itself. */
static void test_needs_reset_not_driver_writable(void **state)
{
	struct fake *f = *state;

	set_status(f, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(status(f), VIRTIO_STATUS_ACKNOWLEDGE);
}

static void test_ready_queue_frozen(void **state)
{
	struct fake *f = *state;
	struct virtio_queue_cfg *q = &f->d.qcfg[0];

	negotiate(f, V1);
	queue_setup(f, 0, 16, DESC, AVAIL, USED);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 32);
	queue_addrs(f, 0x10000, 0x20000, 0x30000);
	assert_int_equal(q->num, 16);
	assert_int_equal(q->desc, DESC);
	assert_int_equal(q->avail, AVAIL);
	assert_int_equal(q->used, USED);
	assert_int_equal(f->d.vqs[0].desc_gpa, DESC);
	assert_int_equal(f->d.vqs[0].size, 16);

	/* another queue selected: its registers are writable */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 32);
	wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
	assert_int_equal(f->d.qcfg[1].num, 32);
	assert_int_equal(f->d.qcfg[1].desc, 0x10000);
	assert_int_equal(q->num, 16);

	/* not ready again: writable again */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NUM, 32);
	queue_addrs(f, 0x10000, 0x20000, 0x30000);
	assert_int_equal(q->num, 32);
	assert_int_equal(q->desc, 0x10000);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(f->d.vqs[0].size, 32);
	assert_int_equal(f->d.vqs[0].used_gpa, 0x30000);
	assert_int_equal(status(f), S_FOK);
}

static void test_reset(void **state)
{
	struct fake *f = *state;

	negotiate(f, V1 | (1ULL << F_LOW));
	queue_setup(f, 0, 16, DESC, AVAIL, USED);
	queue_setup(f, 1, 32, RAM, AVAIL, USED); /* NEEDS_RESET */
	set_status(f, S_LIVE);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	virtio_dev_config_changed(&f->d);
	assert_int_equal(f->activates, 1);
	assert_int_not_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	set_status(f, 0);
	assert_int_equal(f->resets, 1);
	assert_int_equal(status(f), 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(f->d.driver_features, 0);
	assert_int_equal(f->d.device_features_sel, 0);
	assert_int_equal(f->d.driver_features_sel, 0);
	assert_int_equal(f->d.queue_sel, 0);
	for (unsigned q = 0; q < VIRTIO_MMIO_MAX_QUEUES; q++) {
		assert_int_equal(f->d.qcfg[q].num, 0);
		assert_false(f->d.qcfg[q].ready);
		assert_int_equal(f->d.qcfg[q].desc, 0);
		assert_int_equal(f->d.qcfg[q].avail, 0);
		assert_int_equal(f->d.qcfg[q].used, 0);
		assert_int_equal(f->d.vqs[q].size, 0);
		assert_false(f->d.vqs[q].broken);
	}
	/* the config generation counts on: drivers compare it across reads */
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 1);

	/* the device can be brought up again */
	negotiate(f, V1);
	queue_setup(f, 1, 16, DESC, AVAIL, USED);
	set_status(f, S_LIVE);
	assert_int_equal(status(f), S_LIVE);
	assert_int_equal(f->activates, 2);
}

/* ---- interrupts and notifications ---- */

static void test_interrupt_ack(void **state)
{
	struct fake *f = *state;
	int irq = f->d.irq_fd = new_eventfd();

	negotiate(f, V1);
	queue_setup(f, 0, 16, DESC, AVAIL, USED);
	set_status(f, S_LIVE);

	/* a used buffer (the driver did not suppress interrupts) */
	assert_int_equal(virtq_push(&f->d.vqs[0], 0, 0), 0);
	virtio_dev_notify_used(&f->d, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED);
	assert_int_equal(efd_count(irq), 1);
	virtio_dev_config_changed(&f->d);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED | VIRTIO_INT_CONFIG);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(efd_count(irq), 1);

	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_CONFIG);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, 0xfffffffc); /* bits never raised */
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_CONFIG);
	wr(f, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_CONFIG);
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(efd_count(irq), 0); /* acking raises nothing */

	/* used buffers on a queue that does not exist raise nothing */
	virtio_dev_notify_used(&f->d, NQUEUES);
	virtio_dev_notify_used(&f->d, 1); /* exists, not set up */
	assert_int_equal(rd(f, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(efd_count(irq), 0);
}

static void test_queue_notify(void **state)
{
	struct fake *f = *state;
	int n0 = f->d.qcfg[0].notify_fd = new_eventfd();
	int n1 = f->d.qcfg[1].notify_fd = new_eventfd();

	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, NQUEUES);
	wr(f, VIRTIO_MMIO_QUEUE_NOTIFY, UINT32_MAX);
	assert_int_equal(efd_count(n0), 1);
	assert_int_equal(efd_count(n1), 2);
	/* only whole 32-bit writes count */
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, (const uint8_t[]){ 0, 0 }, 2);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_NOTIFY, (const uint8_t[8]){ 0 }, 8);
	assert_int_equal(efd_count(n0), 0);
}

/* ---- access sizes and config space ---- */

static void test_bad_access_sizes(void **state)
{
	static const unsigned lens[] = { 1, 2, 3, 8 };
	struct fake *f = *state;
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(b, 0xcc, sizeof(b));
		virtio_mmio_read(&f->d, VIRTIO_MMIO_MAGIC, b, lens[i]);
		for (unsigned j = 0; j < lens[i]; j++)
			assert_int_equal(b[j], 0);
		assert_int_equal(b[lens[i] < 8 ? lens[i] : 7], lens[i] < 8 ? 0xcc : 0);
	}
	for (uint64_t off = 1; off < 4; off++) {
		memset(b, 0xcc, sizeof(b));
		virtio_mmio_read(&f->d, VIRTIO_MMIO_MAGIC + off, b, 4);
		assert_memory_equal(b, ((uint8_t[4]){ 0 }), 4);
	}

	/* writes of the wrong size or alignment are dropped */
	negotiate(f, V1);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_STATUS, (const uint8_t[]){ 0 }, 1);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_STATUS, (const uint8_t[2]){ 0 }, 2);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_STATUS, (const uint8_t[8]){ 0 }, 8);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_STATUS + 1, (const uint8_t[4]){ 0 }, 4);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_STATUS - 2, (const uint8_t[4]){ 0 }, 4);
	assert_int_equal(status(f), S_FOK);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_SEL, (const uint8_t[8]){ 1 }, 8);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_SEL + 2, (const uint8_t[2]){ 1 }, 2);
	assert_int_equal(f->d.queue_sel, 0);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_NUM, (const uint8_t[2]){ 16 }, 2);
	assert_int_equal(f->d.qcfg[0].num, 0);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_QUEUE_DESC_LOW + 1, (const uint8_t[4]){ 0x10 }, 4);
	assert_int_equal(f->d.qcfg[0].desc, 0);
}

static void test_config_space(void **state)
{
	struct fake *f = *state;
	uint8_t b[8];

	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG, b, 1);
	assert_int_equal(f->config_reads, 1);
	assert_int_equal(f->last_off, 0);
	assert_int_equal(f->last_len, 1);
	assert_int_equal(b[0], 0x10);
	assert_int_equal(b[1], 0xcc);

	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG + 2, b, 2);
	assert_int_equal(f->last_off, 2);
	assert_int_equal(f->last_len, 2);
	assert_memory_equal(b, ((uint8_t[]){ 0x12, 0x13 }), 2);

	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG + 4, b, 4);
	assert_memory_equal(b, ((uint8_t[]){ 0x14, 0x15, 0x16, 0x17 }), 4);

	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG + 8, b, 8);
	assert_memory_equal(b, ((uint8_t[]){ 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f }),
			    8);

	/* unaligned and past the device's config: the device decides; the
	 * transport zero-fills what it does not write */
	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG + 14, b, 4);
	assert_int_equal(f->last_off, 14);
	assert_memory_equal(b, ((uint8_t[]){ 0x1e, 0x1f, 0, 0 }), 4);
	memset(b, 0xcc, sizeof(b));
	virtio_mmio_read(&f->d, VIRTIO_MMIO_SIZE - 4, b, 4);
	assert_int_equal(f->last_off, VIRTIO_MMIO_SIZE - 4 - VIRTIO_MMIO_CONFIG);
	assert_memory_equal(b, ((uint8_t[4]){ 0 }), 4);
	assert_int_equal(f->config_reads, 6);

	virtio_mmio_write(&f->d, VIRTIO_MMIO_CONFIG + 3, (const uint8_t[]){ 0xab, 0xcd }, 2);
	assert_int_equal(f->config_writes, 1);
	assert_int_equal(f->last_off, 3);
	assert_int_equal(f->last_len, 2);
	assert_int_equal(f->cfg[3], 0xab);
	assert_int_equal(f->cfg[4], 0xcd);
	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG + 3, b, 1);
	assert_int_equal(b[0], 0xab);

	/* registers below 0x100 never reach the device */
	rd(f, VIRTIO_MMIO_CONFIG_GENERATION);
	wr(f, VIRTIO_MMIO_CONFIG_GENERATION, 5);
	assert_int_equal(f->config_reads, 7);
	assert_int_equal(f->config_writes, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

/* A device without config space (virtio-rng) reads zeros there. */
static void test_no_config_ops(void **state)
{
	static const struct virtio_dev_ops bare = {
		.name = "virtio-bare",
		.device_id = 4,
		.nqueues = 1,
		.queue_max = 256,
	};
	struct fake *f = *state;
	uint8_t b[4] = { 1, 2, 3, 4 };

	f->d.ops = &bare;
	virtio_mmio_read(&f->d, VIRTIO_MMIO_CONFIG, b, 4);
	assert_memory_equal(b, ((uint8_t[4]){ 0 }), 4);
	virtio_mmio_write(&f->d, VIRTIO_MMIO_CONFIG, b, 4);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_FEATURES),
			 (1u << VIRTIO_F_INDIRECT_DESC) | (1u << VIRTIO_F_EVENT_IDX));
	negotiate(f, V1 | (1ULL << VIRTIO_F_INDIRECT_DESC));
	set_status(f, S_LIVE); /* no activate op: nothing to call */
	assert_int_equal(status(f), S_LIVE);
	set_status(f, 0); /* no reset op either */
	assert_int_equal(status(f), 0);
	assert_int_equal(f->activates + f->resets, 0);
	wr(f, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ids),
		T(test_device_features),
		T(test_features_accepted),
		T(test_features_unoffered_refused),
		T(test_features_legacy_refused),
		T(test_driver_ok_needs_features_ok),
		T(test_features_frozen),
		T(test_driver_features_sel),
		T(test_queue_num_max),
		T(test_queue_setup),
		T(test_queue_high_address_words),
		T(test_queue_num_checks),
		T(test_queue_outside_ram_needs_reset),
		T(test_needs_reset_not_driver_writable),
		T(test_ready_queue_frozen),
		T(test_reset),
		T(test_interrupt_ack),
		T(test_queue_notify),
		T(test_bad_access_sizes),
		T(test_config_space),
		T(test_no_config_ops),
	};
#undef T

	log_set_level(LOG_LEVEL_ERROR); /* refused queues warn */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
