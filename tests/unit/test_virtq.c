// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/queue: split virtqueues built by hand in guest memory, the way a
 * driver (or a hostile guest) lays them out.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/util.h"
#include "virtio/queue.h"

#define RAM MiB(16)
/* Room for the largest queue (32768): desc 512 KiB, avail 64 KiB, used 256 KiB. */
#define DESC 0x10000ULL
#define AVAIL 0x90000ULL
#define USED 0xb0000ULL
#define BUF 0x100000ULL	  /* data buffers */
#define TABLE 0x800000ULL /* indirect tables */

struct fx {
	struct guest_mem mem;
	struct virtq q;
	struct virtq_elem e;
	uint16_t size;
	uint16_t avail_idx; /* the driver's copy */
};

#include "virtq_fixture.h"

static void set_used_event(struct fx *f, uint16_t v)
{
	w16(f, AVAIL + 4 + 2 * (uint64_t)f->size, v);
}

static uint16_t avail_event(struct fx *f)
{
	return r16(f, USED + 4 + 8 * (uint64_t)f->size);
}

static void assert_iov(const struct iovec *iov, struct fx *f, gpa_t gpa, size_t len)
{
	assert_ptr_equal(iov->iov_base, gp(f, gpa, len));
	assert_int_equal(iov->iov_len, len);
}

static void assert_broken(struct fx *f)
{
	assert_true(f->q.broken);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
}

/* ---- set-up ---- */

static void test_init_checks(void **state)
{
	struct fx *f = *state;
	struct virtq *q = &f->q;
	const struct guest_mem *m = &f->mem;

	assert_int_equal(virtq_init(q, m, 0, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 3, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 48, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 0xffff, DESC, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, NULL, 16, DESC, AVAIL, USED, false, false), -EINVAL);
	/* alignment: desc 16, avail 2, used 4 */
	assert_int_equal(virtq_init(q, m, 16, DESC + 8, AVAIL, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 16, DESC, AVAIL + 1, USED, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 16, DESC, AVAIL, USED + 2, false, false), -EINVAL);
	assert_int_equal(virtq_init(q, m, 16, DESC, AVAIL + 2, USED + 4, false, false), 0);
	assert_int_equal(q->size, 16);
	/* outside RAM, in the MMIO hole, straddling the end of RAM */
	assert_int_equal(virtq_init(q, m, 16, RAM, AVAIL, USED, false, false), -EFAULT);
	assert_int_equal(virtq_init(q, m, 16, MMIO_HOLE_START, AVAIL, USED, false, false),
			 -EFAULT);
	assert_int_equal(virtq_init(q, m, 16, RAM - 16 * 16 + 16, AVAIL, USED, false, false),
			 -EFAULT);
	assert_int_equal(virtq_init(q, m, 16, RAM - 16 * 16, AVAIL, USED, false, false), 0);
	assert_int_equal(virtq_init(q, m, 16, DESC, RAM - 6 - 2 * 16 + 2, USED, false, false),
			 -EFAULT);
	assert_int_equal(virtq_init(q, m, 16, DESC, RAM - 6 - 2 * 16, USED, false, false), 0);
	assert_int_equal(virtq_init(q, m, 16, DESC, AVAIL, RAM - 132, false, false), -EFAULT);
	assert_int_equal(virtq_init(q, m, 16, DESC, AVAIL, 0xfffffffffffffff0ULL, false, false),
			 -EFAULT);
	assert_int_equal(q->size, 0); /* a failed init leaves the queue unset */
	assert_int_equal(virtq_init(q, m, 1, DESC, AVAIL, USED, false, false), 0);
	assert_int_equal(virtq_init(q, m, VIRTQ_MAX_SIZE, DESC, AVAIL, USED, true, true), 0);
}

static void test_unset_queue(void **state)
{
	struct fx *f = *state;

	virtq_reset(&f->q);
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
	assert_int_equal(virtq_push(&f->q, 0, 0), -EIO);
	assert_false(virtq_has_work(&f->q));
	assert_false(virtq_needs_interrupt(&f->q));
	virtq_set_notify(&f->q, true);
}

/* ---- well-formed chains ---- */

static void test_empty(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	assert_false(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
	assert_false(f->q.broken);
}

static void test_out_only(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 3, BUF, 100, 0, 0);
	offer(f, 3);
	assert_true(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.head, 3);
	assert_int_equal(f->e.nout, 1);
	assert_int_equal(f->e.nin, 0);
	assert_int_equal(f->e.out_len, 100);
	assert_int_equal(f->e.in_len, 0);
	assert_iov(&f->e.out[0], f, BUF, 100);
	assert_false(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
}

static void test_in_only(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 0, BUF + 0x1000, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, 0);
	assert_int_equal(f->e.nin, 1);
	assert_int_equal(f->e.in_len, 4096);
	assert_iov(&f->e.in[0], f, BUF + 0x1000, 4096);
}

static void test_next_chain(void **state)
{
	struct fx *f = *state;

	/* 5 -> 2 -> 9 -> 0: readable, readable, writable, writable */
	qinit(f, 16, false, false);
	desc(f, 5, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, BUF + 0x100, 512, VIRTQ_DESC_F_NEXT, 9);
	desc(f, 9, BUF + 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	desc(f, 0, BUF + 0x2000, 1, VIRTQ_DESC_F_WRITE, 7); /* next ignored without NEXT */
	offer(f, 5);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.head, 5);
	assert_int_equal(f->e.nout, 2);
	assert_int_equal(f->e.nin, 2);
	assert_int_equal(f->e.out_len, 528);
	assert_int_equal(f->e.in_len, 513);
	assert_iov(&f->e.out[0], f, BUF, 16);
	assert_iov(&f->e.out[1], f, BUF + 0x100, 512);
	assert_iov(&f->e.in[0], f, BUF + 0x1000, 512);
	assert_iov(&f->e.in[1], f, BUF + 0x2000, 1);
}

static void test_several_chains(void **state)
{
	struct fx *f = *state;

	qinit(f, 4, false, false);
	for (uint16_t i = 0; i < 4; i++) {
		desc(f, i, BUF + 0x1000 * (uint64_t)i, 10 + i, 0, 0);
		offer(f, (uint16_t)(3 - i));
	}
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->e), 1);
		assert_int_equal(f->e.head, 3 - i);
		assert_int_equal(f->e.out_len, 10 + 3 - i);
	}
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
}

static void test_full_chain_of_queue_size(void **state)
{
	struct fx *f = *state;

	/* A chain may use every descriptor of the table. */
	qinit(f, 8, false, false);
	for (uint16_t i = 0; i < 8; i++)
		desc(f, i, BUF + i, 1, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, 8);
	assert_int_equal(f->e.out_len, 8);
}

static void test_zero_length(void **state)
{
	struct fx *f = *state;

	/* Zero-length descriptors count as descriptors but give no segment;
	 * their address is never used, wherever it points. */
	qinit(f, 16, false, false);
	desc(f, 0, 0xdeadbeef00000000ULL, 0, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, MMIO_HOLE_START, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	desc(f, 3, BUF + 8, 0, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, 1);
	assert_int_equal(f->e.nin, 0);
	assert_int_equal(f->e.out_len, 8);
	assert_int_equal(f->e.in_len, 0);
	assert_iov(&f->e.out[0], f, BUF, 8);
}

static void test_indirect(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, true);
	/* table: 0 (r) -> 2 (w) -> 1 (w); the pointer's WRITE flag is ignored */
	desc_at(f, TABLE, BUF, 12, VIRTQ_DESC_F_NEXT, 2);
	desc_at(f, TABLE + 16, BUF + 0x2000, 300, VIRTQ_DESC_F_WRITE, 0);
	desc_at(f, TABLE + 32, BUF + 0x1000, 200, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 4, TABLE, 48, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	offer(f, 4);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.head, 4);
	assert_int_equal(f->e.nout, 1);
	assert_int_equal(f->e.nin, 2);
	assert_int_equal(f->e.out_len, 12);
	assert_int_equal(f->e.in_len, 500);
	assert_iov(&f->e.out[0], f, BUF, 12);
	assert_iov(&f->e.in[0], f, BUF + 0x1000, 200);
	assert_iov(&f->e.in[1], f, BUF + 0x2000, 300);
}

static void test_indirect_after_direct(void **state)
{
	struct fx *f = *state;

	/* Normal descriptors followed by one indirect one (spec: valid), and
	 * a table at an address with no particular alignment. */
	qinit(f, 16, false, true);
	desc(f, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 6);
	desc(f, 6, TABLE + 4, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, TABLE + 4, BUF + 0x100, 64, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, TABLE + 20, BUF + 0x200, 128, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 1);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, 2);
	assert_int_equal(f->e.nin, 1);
	assert_iov(&f->e.out[0], f, BUF, 16);
	assert_iov(&f->e.out[1], f, BUF + 0x100, 64);
	assert_iov(&f->e.in[0], f, BUF + 0x200, 128);
}

static void test_indirect_table_of_queue_size(void **state)
{
	struct fx *f = *state;

	qinit(f, 8, false, true);
	for (uint16_t i = 0; i < 8; i++)
		desc_at(f, TABLE + 16 * (uint64_t)i, BUF + i, 1,
			i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	desc(f, 0, TABLE, 8 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, 8);
}

static void test_max_segments(void **state)
{
	struct fx *f = *state;

	/* VIRTQ_MAX_SEGS each way is fine. */
	qinit(f, 2048, false, false);
	for (unsigned i = 0; i < 2 * VIRTQ_MAX_SEGS; i++)
		desc(f, (uint16_t)i, BUF + i, 1,
		     (i + 1 < 2 * VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0) |
			     (i >= VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_WRITE : 0),
		     (uint16_t)(i + 1));
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(f->e.nout, VIRTQ_MAX_SEGS);
	assert_int_equal(f->e.nin, VIRTQ_MAX_SEGS);
}

static void test_push_used_ring(void **state)
{
	struct fx *f = *state;

	qinit(f, 4, false, false);
	desc(f, 2, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
	desc(f, 1, BUF + 64, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 2);
	offer(f, 1);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	/* out of order completion: 1 first, then 2 */
	assert_int_equal(virtq_push(&f->q, 1, 33), 0);
	assert_int_equal(r16(f, USED + 2), 1);
	assert_int_equal(r32(f, USED + 4), 1);
	assert_int_equal(r32(f, USED + 8), 33);
	assert_int_equal(virtq_push(&f->q, 2, 0), 0);
	assert_int_equal(r16(f, USED + 2), 2);
	assert_int_equal(r32(f, USED + 12), 2);
	assert_int_equal(r32(f, USED + 16), 0);
	/* A guest scribbling on used idx does not move the device's index. */
	w16(f, USED + 2, 0x4444);
	desc(f, 0, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 7), 0);
	assert_int_equal(r16(f, USED + 2), 3);
	assert_int_equal(r32(f, USED + 4 + 8 * 2), 0);
	assert_int_equal(r32(f, USED + 4 + 8 * 2 + 4), 7);
}

static void test_index_wrap(void **state)
{
	struct fx *f = *state;

	/* Both 16-bit indices wrap past 0xffff; ring slots wrap at size. */
	qinit(f, 4, false, false);
	f->q.last_avail = f->q.used_idx = 0xfffe;
	f->q.signalled_used = 0xfffe;
	set_avail_idx(f, 0xfffe);
	for (uint16_t i = 0; i < 4; i++) {
		desc(f, i, BUF + 0x100 * (uint64_t)i, 4, VIRTQ_DESC_F_WRITE, 0);
		offer(f, i);
	}
	assert_int_equal(r16(f, AVAIL + 2), 2);
	assert_int_equal(r16(f, AVAIL + 4 + 2 * 2), 0); /* slot 0xfffe & 3 */
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->e), 1);
		assert_int_equal(f->e.head, i);
		assert_int_equal(virtq_push(&f->q, f->e.head, i), 0);
	}
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
	assert_int_equal(f->q.last_avail, 2);
	assert_int_equal(r16(f, USED + 2), 2);
	/* slots 2, 3, 0, 1 hold heads 0, 1, 2, 3 */
	assert_int_equal(r32(f, USED + 4 + 8 * 2), 0);
	assert_int_equal(r32(f, USED + 4 + 8 * 3), 1);
	assert_int_equal(r32(f, USED + 4 + 8 * 0), 2);
	assert_int_equal(r32(f, USED + 4 + 8 * 1), 3);
	assert_int_equal(r32(f, USED + 4 + 8 * 1 + 4), 3);
}

static void test_full_ring(void **state)
{
	struct fx *f = *state;

	/* Exactly `size` chains outstanding is a full ring, not an error. */
	qinit(f, 8, false, false);
	for (uint16_t i = 0; i < 8; i++) {
		desc(f, i, BUF, 1, 0, 0);
		offer(f, i);
	}
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_pop(&f->q, &f->e), 0);
}

/* ---- notification suppression ---- */

static void test_no_interrupt_flag(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 0, BUF, 1, 0, 0);
	assert_false(virtq_needs_interrupt(&f->q)); /* nothing used yet */
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));
	assert_false(virtq_needs_interrupt(&f->q)); /* nothing new */
	w16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	assert_false(virtq_needs_interrupt(&f->q));
	w16(f, AVAIL, 0);
	assert_false(virtq_needs_interrupt(&f->q)); /* still nothing new */
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));
	/* used_event means nothing without EVENT_IDX */
	set_used_event(f, 100);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	assert_true(virtq_needs_interrupt(&f->q));
}

static void pop_push(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		offer(f, 0);
		assert_int_equal(virtq_pop(&f->q, &f->e), 1);
		assert_int_equal(virtq_push(&f->q, 0, 0), 0);
	}
}

static void test_event_idx_interrupts(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, true, false);
	desc(f, 0, BUF, 1, 0, 0);
	/* used_event 0: interrupt when used idx goes 0 -> 1 */
	set_used_event(f, 0);
	pop_push(f, 1);
	assert_true(virtq_needs_interrupt(&f->q));
	pop_push(f, 1); /* 1 -> 2 does not pass 0 */
	assert_false(virtq_needs_interrupt(&f->q));
	/* used_event 4: the batch 2 -> 5 writes entry 4 */
	set_used_event(f, 4);
	pop_push(f, 3);
	assert_true(virtq_needs_interrupt(&f->q));
	/* used_event 8: 5 -> 7 stops short, 7 -> 9 passes it */
	set_used_event(f, 8);
	pop_push(f, 2);
	assert_false(virtq_needs_interrupt(&f->q));
	pop_push(f, 2);
	assert_true(virtq_needs_interrupt(&f->q));
	assert_false(virtq_needs_interrupt(&f->q)); /* nothing new */
	/* the NO_INTERRUPT bit is ignored with EVENT_IDX */
	w16(f, AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	set_used_event(f, 9);
	pop_push(f, 1);
	assert_true(virtq_needs_interrupt(&f->q));
	/* used_event behind: no interrupt until the index wraps around to it */
	set_used_event(f, 3);
	pop_push(f, 5);
	assert_false(virtq_needs_interrupt(&f->q));
	/* after a state restore the device does not know what was signalled */
	f->q.signalled_used_valid = false;
	pop_push(f, 1);
	assert_true(virtq_needs_interrupt(&f->q));
}

static void test_event_idx_wrap(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, true, false);
	desc(f, 0, BUF, 1, 0, 0);
	f->q.last_avail = f->q.used_idx = f->q.signalled_used = 0xfffd;
	set_avail_idx(f, 0xfffd);
	set_used_event(f, 0xffff);
	pop_push(f, 4); /* 0xfffd -> 0x0001 writes entry 0xffff */
	assert_int_equal(r16(f, USED + 2), 1);
	assert_true(virtq_needs_interrupt(&f->q));
	set_used_event(f, 2);
	pop_push(f, 1);
	assert_false(virtq_needs_interrupt(&f->q));
	pop_push(f, 1);
	assert_true(virtq_needs_interrupt(&f->q));
}

static void test_set_notify_flags(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	virtq_set_notify(&f->q, false);
	assert_int_equal(r16(f, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_int_equal(avail_event(f), 0);
	virtq_set_notify(&f->q, true);
	assert_int_equal(r16(f, USED), 0);
	assert_int_equal(avail_event(f), 0);
}

static void test_set_notify_event_idx(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, true, false);
	desc(f, 0, BUF, 1, 0, 0);
	pop_push(f, 3);
	virtq_set_notify(&f->q, true);
	assert_int_equal(avail_event(f), 3); /* kick me when you write entry 3 */
	assert_int_equal(r16(f, USED), 0);
	assert_false(virtq_has_work(&f->q));
	/* disabling leaves avail_event behind the driver; flags stay 0 */
	offer(f, 0);
	virtq_set_notify(&f->q, false);
	assert_int_equal(r16(f, USED), 0);
	assert_int_equal(avail_event(f), 3);
	assert_true(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	virtq_set_notify(&f->q, true);
	assert_int_equal(avail_event(f), 4);
}

/* virtq_rearm: empty ring -> notifications on; work -> off again, true. */
static void test_rearm(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 0, BUF, 1, 0, 0);
	virtq_set_notify(&f->q, false);
	assert_false(virtq_rearm(&f->q));
	assert_int_equal(r16(f, USED), 0);
	offer(f, 0);
	virtq_set_notify(&f->q, false);
	assert_true(virtq_rearm(&f->q));
	assert_int_equal(r16(f, USED), VIRTQ_USED_F_NO_NOTIFY);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
}

/* ---- hostile rings ---- */

static void test_cycle_direct(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_cycle_self(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 7, BUF, 0, VIRTQ_DESC_F_NEXT, 7); /* zero-length still counts */
	offer(f, 7);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_cycle_indirect(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, true);
	desc_at(f, TABLE, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, TABLE + 16, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	desc(f, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_chain_too_long_with_indirect(void **state)
{
	struct fx *f = *state;

	/* 3 direct + 2 indirect buffer descriptors > size 4 */
	qinit(f, 4, false, true);
	desc(f, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, BUF, 1, VIRTQ_DESC_F_NEXT, 3);
	desc(f, 3, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, TABLE, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, TABLE + 16, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_indirect_in_indirect(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, true);
	desc_at(f, TABLE, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, TABLE + 16, TABLE + 0x1000, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, TABLE + 0x1000, BUF, 1, 0, 0);
	desc(f, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void expect_bad_indirect(struct fx *f, uint64_t addr, uint32_t len, uint16_t flags,
				bool negotiated)
{
	qinit(f, 16, false, negotiated);
	desc_at(f, TABLE, BUF, 1, 0, 0);
	desc_at(f, TABLE + 16, BUF, 1, 0, 0);
	desc(f, 0, addr, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	desc(f, 1, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_indirect_bad_tables(void **state)
{
	struct fx *f = *state;

	expect_bad_indirect(f, TABLE, 16, 0, false);		 /* not negotiated */
	expect_bad_indirect(f, TABLE, 16, VIRTQ_DESC_F_NEXT, true); /* INDIRECT | NEXT */
	expect_bad_indirect(f, TABLE, 0, 0, true);
	expect_bad_indirect(f, TABLE, 24, 0, true);
	expect_bad_indirect(f, TABLE, 17, 0, true);
	expect_bad_indirect(f, TABLE, 17 * 16, 0, true); /* more entries than the queue */
	expect_bad_indirect(f, TABLE, 0xfffffff0, 0, true);
	expect_bad_indirect(f, RAM - 16, 32, 0, true);
	expect_bad_indirect(f, MMIO_HOLE_START, 16, 0, true);
	expect_bad_indirect(f, 0xfffffffffffffff0ULL, 32, 0, true);
}

static void test_indirect_next_outside_table(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, true);
	desc_at(f, TABLE, BUF, 1, VIRTQ_DESC_F_NEXT, 2); /* table has 2 entries */
	desc_at(f, TABLE + 32, BUF, 1, 0, 0);
	desc(f, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void expect_bad_buffer(struct fx *f, uint64_t addr, uint32_t len)
{
	/* behind a zero-length descriptor, so only the address can be wrong */
	qinit(f, 16, false, false);
	desc(f, 0, BUF, 0, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, addr, len, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_buffer_outside_ram(void **state)
{
	struct fx *f = *state;

	expect_bad_buffer(f, RAM, 1);
	expect_bad_buffer(f, RAM - 8, 16); /* straddles the end */
	expect_bad_buffer(f, MMIO_HOLE_START, 4096);
	expect_bad_buffer(f, MMIO_HOLE_END - 1, 1);
	expect_bad_buffer(f, 0xfffffffffffffff0ULL, 0x20); /* wraps past 2^64 */
	expect_bad_buffer(f, UINT64_MAX, 1);
	expect_bad_buffer(f, 0, 0xffffffff);
	expect_bad_buffer(f, BUF, 0xffffffff);
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	desc(f, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF + 8, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	/* also across the step into an indirect table */
	qinit(f, 16, false, true);
	desc(f, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(f, TABLE, BUF + 8, 8, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	/* and a zero-length readable one is no exception */
	qinit(f, 16, false, false);
	desc(f, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, BUF + 8, 0, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
}

static void test_head_out_of_range(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	offer(f, 16);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	qinit(f, 16, false, false);
	offer(f, 0xffff);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);

	/* a next index out of range */
	qinit(f, 16, false, false);
	desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 16);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_avail_idx_jump(void **state)
{
	struct fx *f = *state;

	/* More chains than the queue holds */
	qinit(f, 8, false, false);
	desc(f, 0, BUF, 1, 0, 0);
	set_avail_idx(f, 9);
	assert_true(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	/* The index going backwards is a jump of nearly 2^16 */
	qinit(f, 8, false, false);
	desc(f, 0, BUF, 1, 0, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	set_avail_idx(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	/* A jump that only becomes too large after some pops */
	qinit(f, 8, false, false);
	desc(f, 0, BUF, 1, 0, 0);
	set_avail_idx(f, 8);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	set_avail_idx(f, 10);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
}

static void test_too_many_segments(void **state)
{
	struct fx *f = *state;

	qinit(f, 2048, false, false);
	for (unsigned i = 0; i <= VIRTQ_MAX_SEGS; i++)
		desc(f, (uint16_t)i, BUF + i, 1, i < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0,
		     (uint16_t)(i + 1));
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);

	qinit(f, 2048, false, false);
	for (unsigned i = 0; i <= VIRTQ_MAX_SEGS; i++)
		desc(f, (uint16_t)i, BUF + i, 1,
		     VIRTQ_DESC_F_WRITE | (i < VIRTQ_MAX_SEGS ? VIRTQ_DESC_F_NEXT : 0),
		     (uint16_t)(i + 1));
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_broken(f);
}

static void test_push_bad_head(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, false, false);
	assert_int_equal(virtq_push(&f->q, 16, 0), -EIO);
	assert_true(f->q.broken);
	assert_int_equal(r16(f, USED + 2), 0);
	assert_int_equal(virtq_push(&f->q, 0, 0), -EIO);
}

static void test_broken_until_reset(void **state)
{
	struct fx *f = *state;

	qinit(f, 16, true, false);
	desc(f, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	/* repairing the ring does not help */
	desc(f, 0, BUF, 1, 0, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), -EIO);
	assert_int_equal(virtq_push(&f->q, 0, 1), -EIO);
	assert_int_equal(r16(f, USED + 2), 0);
	assert_false(virtq_has_work(&f->q));
	assert_false(virtq_needs_interrupt(&f->q));
	virtq_set_notify(&f->q, true);
	assert_int_equal(avail_event(f), 0);
	assert_true(f->q.broken);
	/* a reset and a new set-up make it usable again */
	virtq_reset(&f->q);
	assert_false(f->q.broken);
	assert_int_equal(virtq_init(&f->q, &f->mem, 16, DESC, AVAIL, USED, true, false), 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	assert_int_equal(virtq_push(&f->q, 0, 1), 0);
	assert_int_equal(r16(f, USED + 2), 1);
}

/* Lengths near 4 GiB need RAM that large; it is mapped, never touched. */
static void test_chain_length_cap(void **state)
{
	struct fx *f = *state;
	struct guest_mem small = f->mem;
	struct virtq_elem *e = &f->e;

	/* the rings live in the big memory at the same addresses */
	if (guest_mem_init(&f->mem, GiB(8))) {
		f->mem = small;
		skip();
		return;
	}
	qinit(f, 16, false, false);
	desc(f, 0, 0, 0x80000000, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0x40000000, 0x7fffffff, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, e), 1);
	assert_int_equal(e->out_len, 0x80000000);
	assert_int_equal(e->in_len, 0x7fffffff);

	/* one byte more than 2^32 - 1 in total */
	desc(f, 1, 0x40000000, 0x80000000, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, e), -EIO);
	assert_broken(f);

	/* one descriptor of 0xffffffff bytes is fine when RAM holds it */
	qinit(f, 16, false, false);
	desc(f, 0, MMIO_HOLE_END + 0x1000, 0xffffffff, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, e), 1);
	assert_int_equal(e->nin, 1);
	assert_int_equal(e->in_len, 0xffffffffULL);
	guest_mem_destroy(&f->mem);
	f->mem = small;
}

/* ---- iov helpers ---- */

static void test_iov_copy(void **state)
{
	uint8_t a[3] = { 1, 2, 3 }, b[1] = { 4 }, c[4] = { 5, 6, 7, 8 };
	struct iovec iov[4] = {
		{ a, sizeof(a) }, { NULL, 0 }, { b, sizeof(b) }, { c, sizeof(c) }
	};
	uint8_t buf[16];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(iov_to_buf(iov, 4, 0, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, ((uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }), 8);
	assert_int_equal(iov_to_buf(iov, 4, 2, buf, 3), 3);
	assert_memory_equal(buf, ((uint8_t[]){ 3, 4, 5 }), 3);
	assert_int_equal(iov_to_buf(iov, 4, 4, buf, 100), 4);
	assert_memory_equal(buf, ((uint8_t[]){ 5, 6, 7, 8 }), 4);
	assert_int_equal(iov_to_buf(iov, 4, 8, buf, 1), 0);
	assert_int_equal(iov_to_buf(iov, 4, UINT64_MAX, buf, 1), 0);
	assert_int_equal(iov_to_buf(iov, 0, 0, buf, 1), 0);
	assert_int_equal(iov_to_buf(iov, 4, 0, buf, 0), 0);

	assert_int_equal(iov_from_buf(iov, 4, 1, (uint8_t[]){ 9, 9, 9, 9 }, 4), 4);
	assert_memory_equal(a, ((uint8_t[]){ 1, 9, 9 }), 3);
	assert_int_equal(b[0], 9);
	assert_memory_equal(c, ((uint8_t[]){ 9, 6, 7, 8 }), 4);
	assert_int_equal(iov_from_buf(iov, 4, 6, (uint8_t[]){ 0, 0, 0, 0 }, 4), 2);
	assert_memory_equal(c, ((uint8_t[]){ 9, 6, 0, 0 }), 4);
	assert_int_equal(iov_from_buf(iov, 4, 9, (uint8_t[]){ 0 }, 1), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_init_checks),
		T(test_unset_queue),
		T(test_empty),
		T(test_out_only),
		T(test_in_only),
		T(test_next_chain),
		T(test_several_chains),
		T(test_full_chain_of_queue_size),
		T(test_zero_length),
		T(test_indirect),
		T(test_indirect_after_direct),
		T(test_indirect_table_of_queue_size),
		T(test_max_segments),
		T(test_push_used_ring),
		T(test_index_wrap),
		T(test_full_ring),
		T(test_no_interrupt_flag),
		T(test_event_idx_interrupts),
		T(test_event_idx_wrap),
		T(test_set_notify_flags),
		T(test_set_notify_event_idx),
		T(test_rearm),
		T(test_cycle_direct),
		T(test_cycle_self),
		T(test_cycle_indirect),
		T(test_chain_too_long_with_indirect),
		T(test_indirect_in_indirect),
		T(test_indirect_bad_tables),
		T(test_indirect_next_outside_table),
		T(test_buffer_outside_ram),
		T(test_readable_after_writable),
		T(test_head_out_of_range),
		T(test_avail_idx_jump),
		T(test_too_many_segments),
		T(test_push_bad_head),
		T(test_broken_until_reset),
		T(test_chain_length_cap),
		cmocka_unit_test(test_iov_copy),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
