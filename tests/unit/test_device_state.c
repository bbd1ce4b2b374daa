// SPDX-License-Identifier: Apache-2.0
/*
 * Device state for snapshots and migration (hw/device_state.h): every
 * device is put in a non-trivial state through its register interface,
 * saved, loaded into a fresh instance (over a copy of guest RAM, as a
 * restore maps the memory file), and must then behave the same: register
 * reads, queued requests completing with the right used index, pending
 * input delivered, held packets and chains resumed. Then hostile loads:
 * every truncation, bad queue sizes, indices and addresses, unknown
 * features and status bits, wrong device or version: -EBADMSG with a
 * message, the fresh device untouched, nothing leaked (ASan).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "base/rate_limiter.h"
#include "base/state.h"
#include "base/util.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "hw/bus.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "hw/device_state.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "virtio_driver.h"
#include "vmm/config.h"

#define RAM MiB(1)
#define BUF 0x40000ULL /* data buffers, above the rings */

/* ---- helpers ---- */

struct blob {
	uint8_t *p;
	size_t n;
};

static struct blob save_state(const struct device_state_ops *ops, void *opaque)
{
	struct state_writer w;
	struct blob b;

	/* As the machine does: the device writes inside its open section. */
	state_writer_init(&w);
	state_section_begin(&w, "device", ops->version);
	assert_int_equal(ops->save(opaque, &w), 0);
	state_section_end(&w);
	assert_int_equal(state_writer_error(&w), 0);
	{
		struct state_reader r, sub;
		char name[STATE_NAME_MAX + 1];
		uint32_t version;

		state_reader_init(&r, w.buf, w.len);
		assert_int_equal(state_next_section(&r, name, &version, &sub), 1);
		assert_int_equal(version, ops->version);
		b.n = state_remaining(&sub);
		b.p = malloc(b.n ? b.n : 1);
		assert_non_null(b.p);
		if (b.n)
			memcpy(b.p, state_get_span(&sub, b.n), b.n);
	}
	state_writer_free(&w);
	return b;
}

static int load_state(const struct device_state_ops *ops, void *opaque, const void *p, size_t n,
		      char *err)
{
	struct state_reader r;

	state_reader_init(&r, p, n);
	err[0] = 0;
	return ops->load(opaque, &r, err, STATE_ERR_MAX);
}

/* A fresh device over a copy of old's RAM; the driver carries on where it was. */
static struct vdrv *vd_clone(struct vdrv *old, void *priv)
{
	struct vdrv *v = vd_new(old->d.ops, priv, RAM);

	assert_non_null(v);
	memcpy(vd_ptr(v, 0, RAM), vd_ptr(old, 0, RAM), RAM);
	memcpy(v->avail_idx, old->avail_idx, sizeof(v->avail_idx));
	memcpy(v->used_seen, old->used_seen, sizeof(v->used_seen));
	memcpy(v->next_desc, old->next_desc, sizeof(v->next_desc));
	return v;
}

/* The transport's registers read the same on both devices. */
static void assert_same_registers(struct vdrv *a, struct vdrv *b, unsigned config_bytes)
{
	static const uint16_t regs[] = {
		VIRTIO_MMIO_MAGIC,	    VIRTIO_MMIO_DEVICE_ID,	  VIRTIO_MMIO_DEVICE_FEATURES,
		VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_STATUS, VIRTIO_MMIO_CONFIG_GENERATION,
	};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal(vd_r32(a, regs[i]), vd_r32(b, regs[i]));
	assert_int_equal(a->d.driver_features, b->d.driver_features);
	assert_int_equal(a->d.queue_sel, b->d.queue_sel);
	for (unsigned q = 0; q < a->d.ops->nqueues; q++) {
		assert_int_equal(a->d.qcfg[q].num, b->d.qcfg[q].num);
		assert_int_equal(a->d.qcfg[q].ready, b->d.qcfg[q].ready);
		assert_int_equal(a->d.qcfg[q].desc, b->d.qcfg[q].desc);
		assert_int_equal(a->d.vqs[q].used_idx, b->d.vqs[q].used_idx);
		assert_int_equal(a->d.vqs[q].signalled_used, b->d.vqs[q].signalled_used);
	}
	for (unsigned off = 0; off < config_bytes; off += 4)
		assert_int_equal(vd_r32(a, VIRTIO_MMIO_CONFIG + off),
				 vd_r32(b, VIRTIO_MMIO_CONFIG + off));
}

/* Every proper prefix of a valid state fails with a message and changes nothing. */
static void assert_truncations_fail(const struct device_state_ops *ops, void *fresh,
				    const struct blob *b)
{
	char err[STATE_ERR_MAX];

	for (size_t n = 0; n < b->n; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, b->p, n); /* exact size: ASan sees any over-read */
		assert_int_equal(load_state(ops, fresh, copy, n, err), -EBADMSG);
		assert_true(strlen(err) > 0);
		free(copy);
	}
	/* A byte too many fails too. */
	{
		uint8_t *longer = calloc(1, b->n + 1);

		assert_non_null(longer);
		memcpy(longer, b->p, b->n);
		assert_int_equal(load_state(ops, fresh, longer, b->n + 1, err), -EBADMSG);
		assert_non_null(strstr(err, "left over"));
		free(longer);
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- rate limiter ---- */

static void test_rate_limiter(void **state)
{
	struct rate_limiter_config cfg = {
		.bandwidth = { .size = 1000, .one_time_burst = 300, .refill_time_ms = 100 },
		.ops = { .size = 10, .refill_time_ms = 1000 },
	};
	struct rate_limiter a, b, c;
	struct state_writer w;
	struct state_reader r;
	const uint64_t t0 = 5000000000ULL, later = 900000000000ULL;

	(void)state;
	rate_limiter_init_at(&a, &cfg, t0);
	assert_true(rate_limiter_consume_at(&a, 1200, t0));
	assert_false(rate_limiter_consume_at(&a, 500, t0 + 10000000)); /* 10 ms later */
	state_writer_init(&w);
	rate_limiter_save_at(&a, &w, t0 + 10000000);
	assert_int_equal(state_writer_error(&w), 0);

	/* Another process, another clock: the bucket is as full as it was. */
	rate_limiter_init_at(&b, NULL, 0);
	state_reader_init(&r, w.buf, w.len);
	rate_limiter_load_at(&b, &r, "test", later);
	assert_int_equal(state_reader_finish(&r, "limiter"), 0);
	assert_int_equal(b.bandwidth.cfg.size, 1000);
	assert_int_equal(b.throttled, 1);
	assert_int_equal(rate_limiter_wait_ms_at(&b, 500, later),
			 rate_limiter_wait_ms_at(&a, 500, t0 + 10000000));
	assert_false(rate_limiter_consume_at(&b, 500, later + 20000000));
	assert_true(rate_limiter_consume_at(&b, 500, later + 30000000));

	/* Hostile: more tokens than the bucket holds. */
	w.buf[3 * 8] = 0xff;
	w.buf[3 * 8 + 1] = 0xff;
	rate_limiter_init_at(&c, NULL, 0);
	state_reader_init(&r, w.buf, w.len);
	rate_limiter_load_at(&c, &r, "test", later);
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "tokens"));
	assert_false(rate_limiter_active(&c)); /* untouched */
	/* Truncated anywhere. */
	for (size_t n = 0; n < w.len; n++) {
		state_reader_init(&r, w.buf, n);
		rate_limiter_load_at(&c, &r, "test", later);
		assert_int_equal(state_reader_error(&r), -EBADMSG);
	}
	state_writer_free(&w);
}

/* ---- serial ---- */

struct uart_fx {
	struct serial s;
	bool irq;
};

static void uart_irq(void *opaque, bool level)
{
	((struct uart_fx *)opaque)->irq = level;
}

static void uart_init(struct uart_fx *u)
{
	memset(u, 0, sizeof(*u));
	serial_init(&u->s);
	u->s.set_irq = uart_irq;
	u->s.opaque = u;
}

static void test_serial(void **state)
{
	struct uart_fx a, b, c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	static const uint8_t input[] = "hello, restored world";

	(void)state;
	uart_init(&a);
	uart_init(&b);
	uart_init(&c);
	serial_write(&a.s, UART_LCR, UART_LCR_DLAB);
	serial_write(&a.s, UART_DLL, 0x0c);
	serial_write(&a.s, UART_DLM, 0x01);
	serial_write(&a.s, UART_LCR, 0x03);
	serial_write(&a.s, UART_FCR, UART_FCR_ENABLE_FIFO);
	serial_write(&a.s, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	serial_write(&a.s, UART_SCR, 0x5a);
	serial_write(&a.s, UART_IER, UART_IER_RDI);
	/* Wrap the receive ring: fill, drain most, fill again. */
	for (unsigned i = 0; i < SERIAL_RX_BUF - 10; i++)
		assert_int_equal(serial_receive(&a.s, (const uint8_t *)"x", 1), 1);
	for (unsigned i = 0; i < SERIAL_RX_BUF - 10; i++)
		serial_read(&a.s, UART_RBR);
	assert_int_equal(serial_receive(&a.s, input, sizeof(input)), sizeof(input));
	assert_true(a.irq);

	bl = save_state(&serial_state_ops, &a.s);
	assert_int_equal(load_state(&serial_state_ops, &b.s, bl.p, bl.n, err), 0);
	assert_false(b.irq);
	serial_state_ops.resumed(&b.s);
	assert_true(b.irq); /* the line is up again */
	for (unsigned reg = UART_IER; reg <= UART_SCR; reg++)
		assert_int_equal(serial_read(&b.s, reg), serial_read(&a.s, reg));
	serial_write(&b.s, UART_LCR, 0x83);
	assert_int_equal(serial_read(&b.s, UART_DLL), 0x0c);
	assert_int_equal(serial_read(&b.s, UART_DLM), 0x01);
	serial_write(&b.s, UART_LCR, 0x03);
	for (size_t i = 0; i < sizeof(input); i++)
		assert_int_equal(serial_read(&b.s, UART_RBR), input[i]);
	assert_int_equal(serial_read(&b.s, UART_LSR) & UART_LSR_DR, 0);
	assert_false(b.irq);

	assert_truncations_fail(&serial_state_ops, &c.s, &bl);
	bl.p[0] = 0xf0; /* IER bits the register never keeps */
	assert_int_equal(load_state(&serial_state_ops, &c.s, bl.p, bl.n, err), -EBADMSG);
	assert_non_null(strstr(err, "serial"));
	assert_int_equal(serial_read(&c.s, UART_SCR), 0); /* untouched */
	free(bl.p);
}

/* ---- i8042 ---- */

struct kbc_fx {
	struct i8042 k;
	bool irq;
};

static void kbc_irq(void *opaque, bool level)
{
	((struct kbc_fx *)opaque)->irq = level;
}

static void kbc_init(struct kbc_fx *f)
{
	memset(f, 0, sizeof(*f));
	i8042_init(&f->k);
	f->k.set_irq = kbc_irq;
	f->k.opaque = f;
}

static void test_i8042(void **state)
{
	struct kbc_fx a, b, c;
	struct blob bl;
	char err[STATE_ERR_MAX];

	(void)state;
	kbc_init(&a);
	kbc_init(&b);
	kbc_init(&c);
	i8042_write(&a.k, 0x64, 0x60); /* write command byte */
	i8042_write(&a.k, 0x60, I8042_CTR_KBDINT | I8042_CTR_SYS);
	i8042_write(&a.k, 0x60, 0xf2); /* identify: fa ab 83 */
	assert_int_equal(i8042_read(&a.k, 0x60), 0xfa);
	i8042_write(&a.k, 0x60, 0xed); /* set LEDs: waits for its data byte */
	i8042_write(&a.k, 0x64, 0xd1); /* write output port: waits too */
	assert_true(a.irq);

	bl = save_state(&i8042_state_ops, &a.k);
	assert_int_equal(load_state(&i8042_state_ops, &b.k, bl.p, bl.n, err), 0);
	i8042_state_ops.resumed(&b.k);
	assert_true(b.irq);
	assert_int_equal(i8042_read(&b.k, 0x64), i8042_read(&a.k, 0x64));
	/* The pending output-port write is still pending: bit 0 set, no reset. */
	i8042_write(&b.k, 0x60, 0x01);
	i8042_write(&a.k, 0x60, 0x01);
	for (int i = 0; i < 4; i++)
		assert_int_equal(i8042_read(&b.k, 0x60), i8042_read(&a.k, 0x60));
	i8042_write(&b.k, 0x60, 0x07); /* the LED data byte: acknowledged */
	assert_int_equal(i8042_read(&b.k, 0x60), 0xfa);
	i8042_write(&b.k, 0x64, 0x20);
	assert_int_equal(i8042_read(&b.k, 0x60), I8042_CTR_KBDINT | I8042_CTR_SYS);

	assert_truncations_fail(&i8042_state_ops, &c.k, &bl);
	bl.p[2] = 0x99; /* a controller command that never waits for data */
	assert_int_equal(load_state(&i8042_state_ops, &c.k, bl.p, bl.n, err), -EBADMSG);
	bl.p[2] = 0xd1;
	bl.p[4] = 17; /* queue longer than the buffer */
	assert_int_equal(load_state(&i8042_state_ops, &c.k, bl.p, bl.n, err), -EBADMSG);
	assert_non_null(strstr(err, "i8042"));
	assert_int_equal(i8042_read(&c.k, 0x64) & I8042_STATUS_OBF, 0);
	free(bl.p);
}

/* ---- rtc ---- */

static time_t fake_now = 1700000000;

static time_t rtc_fake_clock(void)
{
	return fake_now;
}

static void test_rtc(void **state)
{
	struct rtc a, b, c;
	struct blob bl;
	char err[STATE_ERR_MAX];

	(void)state;
	rtc_init(&a);
	rtc_init(&b);
	rtc_init(&c);
	a.now = b.now = c.now = rtc_fake_clock;
	/* The guest sets the year to 2031 (BCD) and keeps a byte in CMOS. */
	rtc_write(&a, 0x70, RTC_REG_B);
	rtc_write(&a, 0x71, RTC_B_24H | RTC_B_SET);
	rtc_write(&a, 0x70, RTC_YEAR);
	rtc_write(&a, 0x71, 0x31);
	rtc_write(&a, 0x70, RTC_REG_B);
	rtc_write(&a, 0x71, RTC_B_24H);
	rtc_write(&a, 0x70, 0x40);
	rtc_write(&a, 0x71, 0xa5);
	rtc_write(&a, 0x70, RTC_MINUTES);
	assert_true(a.offset != 0);

	bl = save_state(&rtc_state_ops, &a);
	assert_int_equal(load_state(&rtc_state_ops, &b, bl.p, bl.n, err), 0);
	assert_int_equal(b.offset, a.offset);
	/* The index register survives: a data read gets the minutes. */
	assert_int_equal(rtc_read(&b, 0x71), rtc_read(&a, 0x71));
	/* Time moves on with the host clock. */
	fake_now += 3600;
	for (unsigned reg = 0; reg < 128; reg++) {
		rtc_write(&a, 0x70, (uint8_t)reg);
		rtc_write(&b, 0x70, (uint8_t)reg);
		assert_int_equal(rtc_read(&b, 0x71), rtc_read(&a, 0x71));
	}
	rtc_write(&b, 0x70, RTC_YEAR);
	assert_int_equal(rtc_read(&b, 0x71), 0x31);

	assert_truncations_fail(&rtc_state_ops, &c, &bl);
	bl.p[0] = 0x80; /* index beyond the CMOS */
	assert_int_equal(load_state(&rtc_state_ops, &c, bl.p, bl.n, err), -EBADMSG);
	bl.p[0] = 0;
	memset(bl.p + 1 + 128, 0x7f, 8); /* an offset of 2^63 s */
	assert_int_equal(load_state(&rtc_state_ops, &c, bl.p, bl.n, err), -EBADMSG);
	assert_non_null(strstr(err, "offset"));
	assert_int_equal(c.offset, 0);
	free(bl.p);
}

/* ---- virtio-blk ---- */

#define IMG_SECTORS 64
#define HDR_GPA 0x30000ULL

struct blkfx {
	char path[64];
	struct vm_disk_config cfg;
};

static void blk_image(struct blkfx *f)
{
	uint8_t buf[VIRTIO_BLK_SECTOR];
	int fd;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "/tmp/osprey-devstate-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (unsigned s = 0; s < IMG_SECTORS; s++) {
		memset(buf, (int)s, sizeof(buf));
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	}
	close(fd);
	f->cfg.path = f->path;
	f->cfg.id = "rootfs";
	f->cfg.cache = DISK_CACHE_WRITEBACK;
	f->cfg.rate_limit.ops.size = 100;
	f->cfg.rate_limit.ops.refill_time_ms = 1000;
}

static struct vdrv *blk_new(struct blkfx *f)
{
	void *b = virtio_blk_alloc(&f->cfg);
	struct vdrv *v;

	assert_non_null(b);
	v = vd_new(&virtio_blk_ops, b, RAM);
	assert_non_null(v);
	return v;
}

/* A read of one sector into BUF + i * 0x1000 (status byte after it). */
static void blk_read(struct vdrv *v, unsigned i, uint64_t sector)
{
	gpa_t hdr = HDR_GPA + 16ULL * i, data = BUF + 0x1000ULL * i;
	uint8_t *h = vd_ptr(v, hdr, 16);
	uint32_t type = VIRTIO_BLK_T_IN;
	struct vd_seg segs[2] = {
		{ .gpa = hdr, .len = 16, .write = false },
		{ .gpa = data, .len = VIRTIO_BLK_SECTOR + 1, .write = true },
	};

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	memset(vd_ptr(v, data, VIRTIO_BLK_SECTOR + 1), 0xee, VIRTIO_BLK_SECTOR + 1);
	vd_add(v, 0, segs, 2);
}

static void blk_check_read(struct vdrv *v, unsigned i, uint64_t sector)
{
	const uint8_t *p = vd_ptr(v, BUF + 0x1000ULL * i, VIRTIO_BLK_SECTOR + 1);

	for (unsigned k = 0; k < VIRTIO_BLK_SECTOR; k++)
		assert_int_equal(p[k], (uint8_t)sector);
	assert_int_equal(p[VIRTIO_BLK_SECTOR], VIRTIO_BLK_S_OK);
}

/* Offsets in the transport part (virtio/mmio.h). */
#define T_VERSION 0
#define T_DEVICE_ID 4
#define T_STATUS 12
#define T_DRIVER_FEATURES 24
#define T_INTERRUPT 36
#define T_THROTTLED 44
#define T_QUEUE0 48
#define TQ_NUM 0
#define TQ_READY 2
#define TQ_DESC 3
#define TQ_USED 19
#define TQ_LAST_AVAIL 27
#define TQ_USED_IDX 29
#define TQ_EVENT_IDX 34

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* One corruption of a copy of b must fail with a message naming `want`. */
static void assert_patch_fails(const struct device_state_ops *ops, struct vdrv *fresh,
			       const struct blob *b, size_t off, unsigned width, uint64_t val,
			       const char *want)
{
	uint8_t *copy = malloc(b->n);
	char err[STATE_ERR_MAX];

	assert_non_null(copy);
	memcpy(copy, b->p, b->n);
	if (width == 1)
		copy[off] = (uint8_t)val;
	else if (width == 2)
		put16(copy + off, (uint16_t)val);
	else if (width == 4)
		put32(copy + off, (uint32_t)val);
	else
		put64(copy + off, val);
	assert_int_equal(load_state(ops, &fresh->d, copy, b->n, err), -EBADMSG);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
	assert_int_equal(fresh->d.status, 0);
	assert_false(fresh->d.qcfg[0].ready);
	assert_false(fresh->d.state_loaded);
	free(copy);
}

static void test_blk(void **state)
{
	struct blkfx f;
	struct vdrv *a, *b, *c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	uint32_t len;

	(void)state;
	blk_image(&f);
	a = blk_new(&f);
	assert_true(vd_setup(a, 1ULL << VIRTIO_F_EVENT_IDX, 1, true) & VIRTIO_STATUS_DRIVER_OK);
	blk_read(a, 0, 3);
	vd_kick(a, 0);
	assert_int_equal(vd_used(a, 0, &len), 0);
	assert_int_equal(len, VIRTIO_BLK_SECTOR + 1);
	blk_check_read(a, 0, 3);
	/* The next request is made available, but the kick is still to come. */
	blk_read(a, 1, 7);
	a->d.interrupt_status = VIRTIO_INT_USED;

	bl = save_state(&virtio_blk_state_ops, &a->d);
	b = vd_clone(a, virtio_blk_alloc(&f.cfg));
	assert_int_equal(load_state(&virtio_blk_state_ops, &b->d, bl.p, bl.n, err), 0);
	assert_same_registers(a, b, 24);
	assert_int_equal(b->d.vqs[0].last_avail, 1);
	assert_true(b->d.vqs[0].event_idx);
	assert_int_equal(vd_used(b, 0, NULL), -1);
	virtio_blk_state_ops.resumed(&b->d);
	/* Resume kicked the queue: the pending read (head 2) completed, used index 2. */
	assert_int_equal(vd_used(b, 0, &len), 2);
	assert_int_equal(len, VIRTIO_BLK_SECTOR + 1);
	blk_check_read(b, 1, 7);
	assert_int_equal(b->d.vqs[0].used_idx, 2);
	assert_int_equal(vd_r32(b, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED);
	/* A second resumed() (a later resume of this VM) does nothing. */
	virtio_blk_state_ops.resumed(&b->d);
	assert_int_equal(b->d.vqs[0].used_idx, 2);
	/* And the device goes on working. */
	blk_read(b, 2, 9);
	vd_kick(b, 0);
	assert_int_equal(vd_used(b, 0, NULL), 4);
	blk_check_read(b, 2, 9);

	/* Hostile loads, each on a fresh device. */
	c = blk_new(&f);
	assert_truncations_fail(&virtio_blk_state_ops, &c->d, &bl);
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_VERSION, 4, 99, "version");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_DEVICE_ID, 4, 1, "id");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_STATUS, 4, 0x17, "status");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_STATUS, 4,
			   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK,
			   "FEATURES_OK");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_DRIVER_FEATURES, 8,
			   (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << 50),
			   "never offered");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_DRIVER_FEATURES, 8,
			   1ULL << VIRTIO_F_EVENT_IDX, "VERSION_1");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_INTERRUPT, 4, 4, "interrupt");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_THROTTLED, 4, 2, "rate-limited");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_NUM, 2, 12, "power of two");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_NUM, 2, 0, "power of two");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_NUM, 2, 512, "maximum");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_READY, 1, 2, "boolean");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_DESC, 8, RAM - 0x10,
			   "outside guest RAM");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_DESC, 8,
			   vd_desc(0) + 8, "misaligned");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_USED, 8, UINT64_MAX - 3,
			   "outside guest RAM");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_LAST_AVAIL, 2,
			   VD_QSIZE + 2, "in flight");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_USED_IDX, 2, 2,
			   "in flight");
	/* Within the queue, but blk never holds a chain: one in flight is a lie. */
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_LAST_AVAIL, 2, 2,
			   "1 in flight");
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_EVENT_IDX, 1, 0,
			   "negotiated");
	/* The queue not ready, yet with ring positions. */
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, T_QUEUE0 + TQ_READY, 1, 0,
			   "not ready");
	/* Past the transport: the ops bucket's budget beyond its 100 tokens. */
	assert_patch_fails(&virtio_blk_state_ops, c, &bl, bl.n - 17 * 8 + 8 * 8 + 3 * 8, 8, 1000,
			   "tokens");
	/* After all that, a good state still loads on the same device. */
	assert_int_equal(load_state(&virtio_blk_state_ops, &c->d, bl.p, bl.n, err), 0);

	free(bl.p);
	vd_free(a);
	vd_free(b);
	vd_free(c);
	unlink(f.path);
}

/* ---- virtio-net ---- */

#define FRAME 300

struct netfx {
	struct vm_net_config cfg;
	int host;
	struct vdrv *v;
};

static void *net_new_priv(struct netfx *nf)
{
	int sv[2];
	void *n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	n = virtio_net_alloc(&nf->cfg, sv[0], false);
	assert_non_null(n);
	nf->host = sv[1];
	return n;
}

static void fill_pkt(uint8_t *p, uint8_t seq)
{
	memset(p, 0, VIRTIO_NET_HDR_LEN);
	for (unsigned i = 0; i < FRAME; i++)
		p[VIRTIO_NET_HDR_LEN + i] = (uint8_t)(seq + i);
}

/* Runs the rate-limited queues once the limiter has had time to refill. */
static void net_unthrottle(struct vdrv *v, unsigned ms)
{
	sleep_ms(ms);
	virtio_dev_throttle_expired(&v->d);
}

static void test_net(void **state)
{
	struct netfx a = { 0 }, b = { 0 }, c = { 0 };
	uint8_t pkt[VIRTIO_NET_HDR_LEN + FRAME], buf[2048];
	struct blob bl;
	char err[STATE_ERR_MAX];
	uint32_t len;

	(void)state;
	a.cfg.tap = "tap-state";
	a.cfg.id = "eth0";
	a.cfg.has_mac = true;
	memcpy(a.cfg.mac, "\x02\x11\x22\x33\x44\x55", 6);
	/* One packet per 40 ms either way: the second of each waits. */
	a.cfg.rx_rate_limit.ops.size = 1;
	a.cfg.rx_rate_limit.ops.refill_time_ms = 40;
	a.cfg.tx_rate_limit = a.cfg.rx_rate_limit;
	b.cfg = c.cfg = a.cfg;
	a.v = vd_new(&virtio_net_ops, net_new_priv(&a), RAM);
	assert_non_null(a.v);
	assert_true(vd_setup(a.v, 1ULL << VIRTIO_NET_F_MRG_RXBUF, 2, true) &
		    VIRTIO_STATUS_DRIVER_OK);

	/* Receive: two packets from the tap, the second held by the limiter. */
	for (unsigned i = 0; i < 2; i++) {
		fill_pkt(pkt, (uint8_t)(40 + i));
		assert_int_equal(send(a.host, pkt, sizeof(pkt), 0), sizeof(pkt));
		vd_add1(a.v, 0, BUF + 0x1000ULL * i, 2048, true);
	}
	vd_kick(a.v, 0);
	assert_int_equal(vd_used(a.v, 0, &len), 0);
	assert_true(virtio_dev_throttled(&a.v->d, 0));
	/* Transmit: two chains, the second popped and held by the limiter. */
	for (unsigned i = 0; i < 2; i++) {
		gpa_t g = BUF + 0x10000ULL + 0x1000ULL * i;

		fill_pkt(vd_ptr(a.v, g, sizeof(pkt)), (uint8_t)(80 + i));
		vd_add1(a.v, 1, g, sizeof(pkt), false);
	}
	vd_kick(a.v, 1);
	assert_int_equal(recv(a.host, buf, sizeof(buf), 0), sizeof(pkt));
	assert_int_equal(buf[VIRTIO_NET_HDR_LEN], 80);
	assert_int_equal(vd_used(a.v, 1, NULL), 0);
	assert_int_equal(virtq_in_flight(&a.v->d.vqs[1]), 1);

	bl = save_state(&virtio_net_state_ops, &a.v->d);
	b.v = vd_clone(a.v, net_new_priv(&b));
	assert_int_equal(load_state(&virtio_net_state_ops, &b.v->d, bl.p, bl.n, err), 0);
	assert_same_registers(a.v, b.v, 8);
	assert_int_equal(vd_r32(b.v, VIRTIO_MMIO_CONFIG), 0x33221102);
	assert_int_equal(virtq_in_flight(&b.v->d.vqs[1]), 0); /* given back to the ring */
	virtio_net_state_ops.resumed(&b.v->d);
	net_unthrottle(b.v, 60);
	/* The held packet reaches the guest from the new device... */
	assert_int_equal(vd_used(b.v, 0, &len), 1);
	assert_int_equal(len, sizeof(pkt));
	assert_int_equal(*vd_ptr(b.v, BUF + 0x1000 + VIRTIO_NET_HDR_LEN, 1), 41);
	/* ...and the held chain its new tap, once. */
	assert_int_equal(recv(b.host, buf, sizeof(buf), 0), sizeof(pkt));
	assert_int_equal(buf[VIRTIO_NET_HDR_LEN], 81);
	assert_int_equal(recv(b.host, buf, sizeof(buf), 0), -1);
	assert_int_equal(vd_used(b.v, 1, NULL), 1);

	/* Hostile: more chains held than in flight, a packet without bytes. */
	c.v = vd_new(&virtio_net_ops, net_new_priv(&c), RAM);
	assert_truncations_fail(&virtio_net_state_ops, &c.v->d, &bl);
	assert_patch_fails(&virtio_net_state_ops, c.v, &bl, bl.n - 1, 1, 0, "in flight");
	assert_patch_fails(&virtio_net_state_ops, c.v, &bl, bl.n - 3, 2, 3, "in flight");
	assert_patch_fails(&virtio_net_state_ops, c.v, &bl, bl.n - 3 - sizeof(pkt) - 4, 4,
			   VIRTIO_NET_MAX_PACKET + 1, "length");
	assert_patch_fails(&virtio_net_state_ops, c.v, &bl, bl.n - 3 - sizeof(pkt) - 5, 1, 0,
			   "disagree");
	free(bl.p);
	vd_free(a.v);
	vd_free(b.v);
	vd_free(c.v);
	close(a.host);
	close(b.host);
	close(c.host);
}

/* ---- virtio-vsock ---- */

static struct vdrv *vsock_new_dev(uint64_t cid)
{
	struct vdrv *v = vd_new(&virtio_vsock_ops, virtio_vsock_alloc(cid), RAM);

	assert_non_null(v);
	virtio_vsock_attach(&v->d);
	return v;
}

static void test_vsock(void **state)
{
	struct vdrv *a, *b, *c, *other;
	struct blob bl;
	char err[STATE_ERR_MAX];
	uint32_t len, ev;

	(void)state;
	a = vsock_new_dev(3);
	assert_true(vd_setup(a, 0, 3, true) & VIRTIO_STATUS_DRIVER_OK);
	vd_add1(a, 0, BUF, 4096, true);	   /* a receive buffer */
	vd_add1(a, 2, BUF + 0x2000, 8, true); /* an event buffer */
	memset(vd_ptr(a, BUF + 0x2000, 8), 0xff, 8);
	vd_kick(a, 0);
	vd_kick(a, 2); /* nothing to say: the event buffer stays */
	assert_int_equal(vd_used(a, 2, NULL), -1);

	bl = save_state(&virtio_vsock_state_ops, &a->d);
	b = vd_clone(a, virtio_vsock_alloc(3));
	virtio_vsock_attach(&b->d);
	assert_int_equal(load_state(&virtio_vsock_state_ops, &b->d, bl.p, bl.n, err), 0);
	assert_same_registers(a, b, 8);
	virtio_vsock_state_ops.resumed(&b->d);
	/* TRANSPORT_RESET on the event queue. */
	assert_int_equal(vd_used(b, 2, &len), 0);
	assert_int_equal(len, 4);
	memcpy(&ev, vd_ptr(b, BUF + 0x2000, 4), 4);
	assert_int_equal(le32toh(ev), VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	assert_true(vd_r32(b, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_USED);
	assert_int_equal(vd_used(b, 0, NULL), -1); /* the receive buffer stays */

	/* Without an event buffer at resume, the event waits for the driver's next one. */
	{
		struct vdrv *a2 = vsock_new_dev(3);
		struct blob b2;

		assert_true(vd_setup(a2, 0, 3, true) & VIRTIO_STATUS_DRIVER_OK);
		b2 = save_state(&virtio_vsock_state_ops, &a2->d);
		c = vd_clone(a2, virtio_vsock_alloc(3));
		virtio_vsock_attach(&c->d);
		assert_int_equal(load_state(&virtio_vsock_state_ops, &c->d, b2.p, b2.n, err), 0);
		free(b2.p);
		vd_free(a2);
	}
	virtio_vsock_state_ops.resumed(&c->d);
	assert_int_equal(vd_used(c, 2, NULL), -1);
	vd_add1(c, 2, BUF + 0x3000, 4, true);
	vd_kick(c, 2);
	assert_int_equal(vd_used(c, 2, &len), 0);
	assert_int_equal(len, 4);

	/* Hostile: another CID, truncations. */
	other = vsock_new_dev(4);
	assert_int_equal(load_state(&virtio_vsock_state_ops, &other->d, bl.p, bl.n, err),
			 -EBADMSG);
	assert_non_null(strstr(err, "CID"));
	vd_free(other);
	other = vsock_new_dev(3);
	assert_truncations_fail(&virtio_vsock_state_ops, &other->d, &bl);
	free(bl.p);
	vd_free(a);
	vd_free(b);
	vd_free(c);
	vd_free(other);
}

/* ---- virtio-rng ---- */

static void test_rng(void **state)
{
	struct rate_limiter_config rl = { .bandwidth = { .size = 4096, .refill_time_ms = 100 } };
	struct vdrv *a, *b, *c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	uint32_t len;

	(void)state;
	a = vd_new(&virtio_rng_ops, virtio_rng_alloc(&rl), RAM);
	assert_non_null(a);
	assert_true(vd_setup(a, 1ULL << VIRTIO_F_INDIRECT_DESC, 1, true) & VIRTIO_STATUS_DRIVER_OK);
	vd_add1(a, 0, BUF, 64, true);
	vd_kick(a, 0);
	assert_int_equal(vd_used(a, 0, NULL), 0);
	vd_add1(a, 0, BUF + 0x1000, 32, true); /* not kicked yet */

	bl = save_state(&virtio_rng_state_ops, &a->d);
	b = vd_clone(a, virtio_rng_alloc(NULL));
	assert_int_equal(load_state(&virtio_rng_state_ops, &b->d, bl.p, bl.n, err), 0);
	assert_same_registers(a, b, 0);
	virtio_rng_state_ops.resumed(&b->d);
	assert_int_equal(vd_used(b, 0, &len), 1);
	assert_int_equal(len, 32);
	assert_int_equal(virtio_rng_get_metrics(&b->d)->entropy_bytes, 32);

	c = vd_new(&virtio_rng_ops, virtio_rng_alloc(NULL), RAM);
	assert_non_null(c);
	assert_truncations_fail(&virtio_rng_state_ops, &c->d, &bl);
	free(bl.p);
	vd_free(a);
	vd_free(b);
	vd_free(c);
}

/* ---- virtio-balloon ---- */

static void test_balloon(void **state)
{
	struct vm_balloon_config cfg = { .enabled = true, .target = 64 * 4096, .stats_interval = 1 };
	struct virtio_balloon_stats st;
	struct vdrv *a, *b, *c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	uint8_t stat[10] = { VIRTIO_BALLOON_S_MEMTOT, 0 };
	uint64_t memtot = 123456789;
	uint32_t actual = 17;

	(void)state;
	memcpy(stat + 2, &memtot, 8);
	a = vd_new(&virtio_balloon_ops, virtio_balloon_alloc(&cfg), RAM);
	assert_non_null(a);
	assert_true(vd_setup(a, 1ULL << VIRTIO_BALLOON_F_STATS_VQ, 3, true) &
		    VIRTIO_STATUS_DRIVER_OK);
	memcpy(vd_ptr(a, BUF, sizeof(stat)), stat, sizeof(stat));
	vd_add1(a, 2, BUF, sizeof(stat), false);
	vd_kick(a, 2); /* the device keeps the statistics buffer */
	virtio_mmio_write(&a->d, VIRTIO_MMIO_CONFIG + 4, (const uint8_t *)&actual, 4);

	bl = save_state(&virtio_balloon_state_ops, &a->d);
	cfg.target = 0;
	b = vd_clone(a, virtio_balloon_alloc(&cfg));
	assert_int_equal(load_state(&virtio_balloon_state_ops, &b->d, bl.p, bl.n, err), 0);
	assert_same_registers(a, b, 8);
	assert_int_equal(vd_r32(b, VIRTIO_MMIO_CONFIG), 64);
	assert_int_equal(vd_r32(b, VIRTIO_MMIO_CONFIG + 4), 17);
	virtio_balloon_state_ops.resumed(&b->d);
	assert_int_equal(virtio_balloon_get_stats(&b->d, &st), 0);
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_MEMTOT], memtot);
	assert_int_equal(st.stats_updates, 1);
	/* The held buffer is still held: the timer's request returns it. */
	assert_int_equal(vd_used(b, 2, NULL), -1);
	pthread_mutex_lock(&b->d.lock);
	virtio_balloon_request_stats(&b->d);
	pthread_mutex_unlock(&b->d.lock);
	assert_int_equal(vd_used(b, 2, NULL), 0);

	c = vd_new(&virtio_balloon_ops, virtio_balloon_alloc(&cfg), RAM);
	assert_non_null(c);
	assert_truncations_fail(&virtio_balloon_state_ops, &c->d, &bl);
	/* A held buffer with a head outside the queue. */
	assert_patch_fails(&virtio_balloon_state_ops, c, &bl, bl.n - 2, 2, VD_QSIZE, "held");
	free(bl.p);
	vd_free(a);
	vd_free(b);
	vd_free(c);
}

/* ---- virtio-console ---- */

static void test_console(void **state)
{
	struct vdrv *a, *b, *c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	static const char typed[] = "typed before the snapshot";
	uint32_t len;

	(void)state;
	a = vd_new(&virtio_console_ops, virtio_console_alloc(NULL), RAM);
	assert_non_null(a);
	((struct virtio_console *)a->d.priv)->d = &a->d;
	assert_true(vd_setup(a, 1ULL << VIRTIO_CONSOLE_F_SIZE, 2, true) & VIRTIO_STATUS_DRIVER_OK);
	/* No receive buffers yet: the input waits in the device. */
	assert_int_equal(virtio_console_sink(&a->d, (const uint8_t *)typed, sizeof(typed)),
			 sizeof(typed));

	bl = save_state(&virtio_console_state_ops, &a->d);
	b = vd_clone(a, virtio_console_alloc(NULL));
	((struct virtio_console *)b->d.priv)->d = &b->d;
	assert_int_equal(load_state(&virtio_console_state_ops, &b->d, bl.p, bl.n, err), 0);
	assert_same_registers(a, b, 12);
	virtio_console_state_ops.resumed(&b->d);
	vd_add1(b, 0, BUF, 256, true);
	vd_kick(b, 0);
	assert_int_equal(vd_used(b, 0, &len), 0);
	assert_int_equal(len, sizeof(typed));
	assert_memory_equal(vd_ptr(b, BUF, sizeof(typed)), typed, sizeof(typed));

	c = vd_new(&virtio_console_ops, virtio_console_alloc(NULL), RAM);
	assert_non_null(c);
	assert_truncations_fail(&virtio_console_state_ops, &c->d, &bl);
	free(bl.p);
	vd_free(a);
	vd_free(b);
	vd_free(c);
}

/* ---- bit flips: whatever they do, no crash, and a failure says why ---- */

static void test_bit_flips(void **state)
{
	struct blkfx f;
	struct vdrv *a, *c;
	struct blob bl;
	char err[STATE_ERR_MAX];
	unsigned failed = 0;

	(void)state;
	log_set_level(LOG_LEVEL_ERROR); /* broken rings are expected here */
	blk_image(&f);
	a = blk_new(&f);
	vd_setup(a, 1ULL << VIRTIO_F_EVENT_IDX, 1, true);
	blk_read(a, 0, 1);
	vd_kick(a, 0);
	bl = save_state(&virtio_blk_state_ops, &a->d);
	for (size_t i = 0; i < bl.n * 8; i++) {
		int ret;

		c = blk_new(&f);
		bl.p[i / 8] ^= (uint8_t)(1u << (i % 8));
		ret = load_state(&virtio_blk_state_ops, &c->d, bl.p, bl.n, err);
		bl.p[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (ret) {
			assert_int_equal(ret, -EBADMSG);
			assert_true(strlen(err) > 0);
			failed++;
		} else {
			virtio_blk_state_ops.resumed(&c->d);
		}
		vd_free(c);
	}
	/* Most single flips are caught (the rest are values that are fine). */
	assert_true(failed > bl.n * 8 / 4);
	free(bl.p);
	vd_free(a);
	unlink(f.path);
}

/* ---- the real create() paths: handler names, and a whole-machine round trip ---- */

#define MACH_MAX 32

struct mach {
	struct device_env env;
	struct guest_mem mem;
	struct bus pio, mmio;
	uint64_t next_mmio;
	unsigned next_irq;
	struct {
		char name[STATE_NAME_MAX + 1];
		const struct device_state_ops *ops;
		void *opaque;
	} h[MACH_MAX];
	unsigned nh;
	struct {
		void (*fn)(void *opaque);
		void *opaque;
	} cleanups[MACH_MAX * 2];
	unsigned ncleanups;
};

static int m_register_state(void *machine, const char *name, const struct device_state_ops *ops,
			    void *opaque)
{
	struct mach *m = machine;

	if (strlen(name) > STATE_NAME_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < m->nh; i++)
		if (!strcmp(m->h[i].name, name))
			return -EEXIST;
	if (m->nh == MACH_MAX)
		return -ENOSPC;
	snprintf(m->h[m->nh].name, sizeof(m->h[m->nh].name), "%s", name);
	m->h[m->nh].ops = ops;
	m->h[m->nh].opaque = opaque;
	m->nh++;
	return 0;
}

static int m_add_cleanup(void *machine, void (*fn)(void *opaque), void *opaque)
{
	struct mach *m = machine;

	if (m->ncleanups == MACH_MAX * 2) {
		fn(opaque);
		return -ENOSPC;
	}
	m->cleanups[m->ncleanups].fn = fn;
	m->cleanups[m->ncleanups].opaque = opaque;
	m->ncleanups++;
	return 0;
}

static int m_alloc_mmio(void *machine, uint64_t size, uint64_t *base)
{
	struct mach *m = machine;

	*base = m->next_mmio;
	m->next_mmio += size;
	return 0;
}

static int m_alloc_irq(void *machine, unsigned *gsi)
{
	struct mach *m = machine;

	*gsi = m->next_irq++;
	return 0;
}

static int m_irq_line(void *machine, unsigned gsi, int level)
{
	(void)machine;
	(void)gsi;
	(void)level;
	return 0;
}

static int m_no_fd(void *machine, unsigned gsi, int fd)
{
	(void)machine;
	(void)gsi;
	(void)fd;
	return -ENOTSUP;
}

static int m_no_notify(void *machine, uint64_t addr, uint32_t datamatch, int fd)
{
	(void)machine;
	(void)addr;
	(void)datamatch;
	(void)fd;
	return -ENOTSUP;
}

static int m_cmdline(void *machine, const char *param)
{
	(void)machine;
	(void)param;
	return 0;
}

static void m_exit(void *machine, int status)
{
	(void)machine;
	(void)status;
}

static void m_con_write(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
}

static void m_con_sink(void *opaque, console_sink_fn sink, void *sink_opaque)
{
	(void)opaque;
	(void)sink;
	(void)sink_opaque;
}

static void m_con_ready(void *opaque)
{
	(void)opaque;
}

static void mach_init(struct mach *m, const struct device_env_config *cfg)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(guest_mem_init(&m->mem, RAM), 0);
	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	m->next_mmio = 0xd0000000ULL;
	m->next_irq = 5;
	m->env = (struct device_env){
		.machine = m,
		.mem = &m->mem,
		.pio = &m->pio,
		.mmio = &m->mmio,
		.console = { .opaque = m, .write = m_con_write, .set_sink = m_con_sink,
			     .sink_ready = m_con_ready },
		.cfg = *cfg,
		.irq_line = m_irq_line,
		.irqfd = m_no_fd,
		.notify_fd = m_no_notify,
		.alloc_mmio = m_alloc_mmio,
		.alloc_irq = m_alloc_irq,
		.cmdline_append = m_cmdline,
		.add_cleanup = m_add_cleanup,
		.request_exit = m_exit,
		.register_state = m_register_state,
	};
	for (const struct device_desc *const *d = __start_osprey_devices;
	     d < __stop_osprey_devices; d++) {
		static const char *const wanted[] = { "serial-com1", "i8042", "rtc",
						      "virtio-blk", "virtio-rng", "virtio-balloon",
						      "virtio-console", "virtio-vsock" };

		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
			if (!strcmp((*d)->name, wanted[i]))
				assert_int_equal((*d)->create(&m->env), 0);
	}
}

static void mach_fini(struct mach *m)
{
	while (m->ncleanups--)
		m->cleanups[m->ncleanups].fn(m->cleanups[m->ncleanups].opaque);
	guest_mem_destroy(&m->mem);
}

static int mach_find(const struct mach *m, const char *name)
{
	for (unsigned i = 0; i < m->nh; i++)
		if (!strcmp(m->h[i].name, name))
			return (int)i;
	return -1;
}

static void test_machine(void **state)
{
	static const char *const names[] = {
		"serial.0",	  "i8042",	  "rtc",	  "virtio-blk.rootfs", "virtio-blk.#1",
		"virtio-blk.#2", "virtio-rng", "virtio-balloon", "virtio-console", "virtio-vsock",
	};
	char longid[80], sock[64], err[STATE_ERR_MAX];
	struct vm_disk_config disks[3];
	struct vm_vsock_config vsock = { .enabled = true, .cid = 3 };
	struct vm_balloon_config balloon = { .enabled = true, .target = 4096, .stats_interval = 5 };
	struct device_env_config cfg = { 0 };
	struct blkfx f;
	struct mach *a, *b;

	(void)state;
	blk_image(&f);
	memset(longid, 'd', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	for (unsigned i = 0; i < 3; i++)
		disks[i] = f.cfg;
	disks[2].id = longid; /* too long for a section name */
	snprintf(sock, sizeof(sock), "/tmp/osprey-devstate-%d.sock", (int)getpid());
	vsock.uds = sock;
	cfg.disks = disks;
	cfg.ndisks = 3;
	cfg.rng = true;
	cfg.vsock = &vsock;
	cfg.balloon = &balloon;
	cfg.console_virtio = true;
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	mach_init(a, &cfg);
	assert_int_equal(a->nh, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (mach_find(a, names[i]) < 0)
			fail_msg("no state handler %s", names[i]);

	/* Machine b, made from the same configuration, takes every section of a. */
	rtc_write(a->h[mach_find(a, "rtc")].opaque, 0x70, 0x33);
	{
		struct blob blobs[MACH_MAX];
		unsigned n = a->nh;

		/* Quiesced, as the machine saves: every I/O thread parks. */
		for (unsigned i = 0; i < n; i++) {
			if (!a->h[i].ops->quiesce)
				continue;
			a->h[i].ops->quiesce(a->h[i].opaque, true);
			a->h[i].ops->quiesce(a->h[i].opaque, true); /* again: harmless */
			assert_true(((struct virtio_dev *)a->h[i].opaque)->io_parked);
		}
		for (unsigned i = 0; i < n; i++)
			blobs[i] = save_state(a->h[i].ops, a->h[i].opaque);
		/* The first half goes on; the rest are torn down while parked. */
		for (unsigned i = 0; i < n / 2; i++)
			if (a->h[i].ops->quiesce)
				a->h[i].ops->quiesce(a->h[i].opaque, false);
		mach_fini(a); /* its vsock socket goes */
		mach_init(b, &cfg);
		assert_int_equal(b->nh, n);
		for (unsigned i = 0; i < n; i++) {
			int k = mach_find(b, a->h[i].name);

			assert_true(k >= 0);
			if (load_state(b->h[k].ops, b->h[k].opaque, blobs[i].p, blobs[i].n, err))
				fail_msg("%s: %s", b->h[k].name, err);
			free(blobs[i].p);
		}
		for (unsigned i = 0; i < b->nh; i++)
			if (b->h[i].ops->resumed)
				b->h[i].ops->resumed(b->h[i].opaque);
		assert_int_equal(((struct rtc *)b->h[mach_find(b, "rtc")].opaque)->index, 0x33);
	}
	mach_fini(b);
	free(a);
	free(b);
	unlink(f.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limiter), cmocka_unit_test(test_serial),
		cmocka_unit_test(test_i8042),	     cmocka_unit_test(test_rtc),
		cmocka_unit_test(test_blk),	     cmocka_unit_test(test_net),
		cmocka_unit_test(test_vsock),	     cmocka_unit_test(test_rng),
		cmocka_unit_test(test_balloon),	     cmocka_unit_test(test_console),
		cmocka_unit_test(test_bit_flips),    cmocka_unit_test(test_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
