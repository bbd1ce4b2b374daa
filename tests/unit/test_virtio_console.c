// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/console: the device over hand-built rings, with the host
 * console's output in a memfd: transmit (bounded per request), receive
 * (input held until the guest posts buffers, split across buffers, the
 * ring wrapping, back-pressure on a full buffer), hostile rings, config.
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
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "virtio/console.h"
#include "virtio_driver.h"
#include "vmm/console.h"

#define RAM MiB(4)
#define TXBUF 0x100000ULL
#define RXBUF 0x200000ULL
#define RXQ VIRTIO_CONSOLE_RXQ
#define TXQ VIRTIO_CONSOLE_TXQ

struct fx {
	struct console con;
	struct device_console port; /* the device side of con */
	struct vdrv *v;
	struct virtio_console *c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->con.out_fd = memfd_create("console-out", MFD_CLOEXEC);
	f->con.ready_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->con.in_fd = -1;
	console_device_port(&f->con, &f->port);
	f->c = virtio_console_alloc(&f->port);
	if (f->con.out_fd < 0 || f->con.ready_efd < 0 || !f->c)
		return -1;
	f->v = vd_new(&virtio_console_ops, f->c, RAM);
	if (!f->v)
		return -1;
	f->c->d = &f->v->d;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vd_free(f->v); /* frees f->c */
	close(f->con.out_fd);
	close(f->con.ready_efd);
	free(f);
	return 0;
}

/* What the device wrote to the console so far. */
static size_t output(struct fx *f, char *buf, size_t max)
{
	ssize_t n = pread(f->con.out_fd, buf, max, 0);

	assert_true(n >= 0);
	return (size_t)n;
}

static bool host_woken(struct fx *f)
{
	uint64_t v;

	return read(f->con.ready_efd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

static size_t sink(struct fx *f, const char *s, size_t len)
{
	return virtio_console_sink(&f->v->d, (const uint8_t *)s, len);
}

static void test_config_and_features(void **state)
{
	struct fx *f = *state;
	uint32_t v;

	assert_int_equal(vd_r32(f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	vd_w32(f->v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_true(vd_r32(f->v, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_CONSOLE_F_SIZE));
	v = vd_r32(f->v, VIRTIO_MMIO_CONFIG);
	assert_int_equal(v & 0xffff, 80);
	assert_int_equal(v >> 16, 25);
	assert_int_equal(vd_r32(f->v, VIRTIO_MMIO_CONFIG + 4), 1); /* max_nr_ports */
	assert_int_equal(vd_r32(f->v, VIRTIO_MMIO_CONFIG + 12), 0);
	assert_true(vd_setup(f->v, 1ULL << VIRTIO_CONSOLE_F_SIZE, 2, true) &
		    VIRTIO_STATUS_DRIVER_OK);
}

static void test_transmit(void **state)
{
	struct fx *f = *state;
	struct vd_seg segs[] = {
		{ .gpa = TXBUF, .len = 6 },
		{ .gpa = TXBUF + 0x1000, .len = 7 },
		{ .gpa = TXBUF + 0x2000, .len = 16, .write = true }, /* ignored */
	};
	char out[64];
	uint32_t len = 99;
	uint16_t head;

	vd_setup(f->v, 0, 2, true);
	memcpy(vd_ptr(f->v, TXBUF, 6), "hello ", 6);
	memcpy(vd_ptr(f->v, TXBUF + 0x1000, 7), "world\r\n", 7);
	head = vd_add(f->v, TXQ, segs, 3);
	vd_kick(f->v, TXQ);
	assert_int_equal(vd_used(f->v, TXQ, &len), head);
	assert_int_equal(len, 0);
	assert_int_equal(output(f, out, sizeof(out)), 13);
	assert_memory_equal(out, "hello world\r\n", 13);
	assert_true(f->v->d.interrupt_status & VIRTIO_INT_USED);
	assert_int_equal(f->c->tx_bytes, 13);
}

static void test_transmit_bounded(void **state)
{
	struct fx *f = *state;
	struct vd_seg segs[3];
	static char out[4 * 32768];

	vd_setup(f->v, 0, 2, true);
	for (unsigned i = 0; i < 3; i++) {
		segs[i] = (struct vd_seg){ .gpa = TXBUF + i * 32768ULL, .len = 32768 };
		memset(vd_ptr(f->v, segs[i].gpa, 32768), 'a' + (int)i, 32768);
	}
	vd_add(f->v, TXQ, segs, 3);
	vd_kick(f->v, TXQ);
	assert_int_equal(vd_used(f->v, TXQ, NULL), 0);
	assert_int_equal(output(f, out, sizeof(out)), VIRTIO_CONSOLE_TX_MAX);
	assert_int_equal(out[VIRTIO_CONSOLE_TX_MAX - 1], 'b');
	assert_int_equal(f->c->tx_dropped, 3 * 32768 - VIRTIO_CONSOLE_TX_MAX);
}

static void test_receive_waits_for_buffers(void **state)
{
	struct fx *f = *state;
	uint32_t len = 0;
	uint16_t head;

	/* Input before the driver is ready stays pending. */
	assert_int_equal(sink(f, "ls\r", 3), 3);
	vd_setup(f->v, 0, 2, false);
	head = vd_add1(f->v, RXQ, RXBUF, 64, true);
	vd_driver_ok(f->v); /* activate: buffers posted before DRIVER_OK are used */
	assert_int_equal(vd_used(f->v, RXQ, &len), head);
	assert_int_equal(len, 3);
	assert_memory_equal(vd_ptr(f->v, RXBUF, 3), "ls\r", 3);

	/* No buffers: the bytes wait for the next receiveq kick. */
	assert_int_equal(sink(f, "abcdef", 6), 6);
	vd_kick(f->v, RXQ);
	assert_int_equal(vd_used(f->v, RXQ, NULL), -1);
	/* Two small buffers: the input is split across them. */
	vd_add1(f->v, RXQ, RXBUF, 4, true);
	vd_add1(f->v, RXQ, RXBUF + 0x100, 64, true);
	vd_kick(f->v, RXQ);
	assert_true(vd_used(f->v, RXQ, &len) >= 0);
	assert_int_equal(len, 4);
	assert_memory_equal(vd_ptr(f->v, RXBUF, 4), "abcd", 4);
	assert_true(vd_used(f->v, RXQ, &len) >= 0);
	assert_int_equal(len, 2);
	assert_memory_equal(vd_ptr(f->v, RXBUF + 0x100, 2), "ef", 2);
	assert_int_equal(f->c->rx_bytes, 9);
	assert_false(host_woken(f));
}

static void test_receive_back_pressure(void **state)
{
	struct fx *f = *state;
	static char big[VIRTIO_CONSOLE_RX_BUF + 100];
	uint32_t len;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('0' + i % 10);
	vd_setup(f->v, 0, 2, true);
	/* A full buffer accepts only what fits; the console keeps the rest. */
	assert_int_equal(sink(f, big, sizeof(big)), VIRTIO_CONSOLE_RX_BUF);
	assert_int_equal(sink(f, big, 10), 0);
	assert_false(host_woken(f));
	/* The guest takes 1000 bytes: room again, the console is told. */
	vd_add1(f->v, RXQ, RXBUF, 1000, true);
	vd_kick(f->v, RXQ);
	assert_true(vd_used(f->v, RXQ, &len) >= 0);
	assert_int_equal(len, 1000);
	assert_true(host_woken(f));
	/* The rest, across the ring's wrap, arrives in order. */
	assert_int_equal(sink(f, big + VIRTIO_CONSOLE_RX_BUF, 100), 100);
	vd_add1(f->v, RXQ, RXBUF + 0x10000, 8192, true);
	vd_kick(f->v, RXQ);
	assert_true(vd_used(f->v, RXQ, &len) >= 0);
	assert_int_equal(len, sizeof(big) - 1000);
	assert_memory_equal(vd_ptr(f->v, RXBUF, 1000), big, 1000);
	assert_memory_equal(vd_ptr(f->v, RXBUF + 0x10000, len), big + 1000, len);
}

static void test_hostile_rings(void **state)
{
	struct fx *f = *state;
	struct vd_seg ro = { .gpa = RXBUF, .len = 16 }; /* read-only receive buffer */

	vd_setup(f->v, 0, 2, true);
	/* A receive buffer with nothing writable: used with length 0. */
	assert_int_equal(sink(f, "x", 1), 1);
	vd_add(f->v, RXQ, &ro, 1);
	vd_add1(f->v, RXQ, RXBUF + 0x100, 8, true);
	vd_kick(f->v, RXQ);
	assert_true(vd_used(f->v, RXQ, NULL) >= 0);
	assert_true(vd_used(f->v, RXQ, NULL) >= 0);
	assert_int_equal(*vd_ptr(f->v, RXBUF + 0x100, 1), 'x');
	assert_false(vd_r32(f->v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* A transmit buffer outside RAM: NEEDS_RESET, nothing written. */
	vd_add1(f->v, TXQ, RAM - 4, 8, false);
	vd_kick(f->v, TXQ);
	assert_true(vd_r32(f->v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->c->tx_bytes, 0);
	/* Input keeps waiting while the device needs a reset, and after it. */
	assert_int_equal(sink(f, "yz", 2), 2);
	vd_w32(f->v, VIRTIO_MMIO_STATUS, 0);
	vd_setup(f->v, 0, 2, true);
	vd_add1(f->v, RXQ, RXBUF, 8, true);
	vd_kick(f->v, RXQ);
	assert_true(vd_used(f->v, RXQ, NULL) >= 0);
	assert_memory_equal(vd_ptr(f->v, RXBUF, 2), "yz", 2);
}

static void test_escape_balloon(void **state)
{
	bool esc = false;
	uint8_t buf[] = "a\x01" "bc\x01" "B";
	enum console_action act;

	(void)state;
	assert_int_equal(console_filter_input(&esc, buf, sizeof(buf) - 1, &act), 2);
	assert_int_equal(act, CONSOLE_ACT_BALLOON);
	assert_memory_equal(buf, "ac", 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config_and_features),
		T(test_transmit),
		T(test_transmit_bounded),
		T(test_receive_waits_for_buffers),
		T(test_receive_back_pressure),
		T(test_hostile_rings),
		cmocka_unit_test(test_escape_balloon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
