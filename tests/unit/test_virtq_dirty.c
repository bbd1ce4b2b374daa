// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/queue: every host write into guest RAM reaches the dirty log
 * (snapshots, migration): the used ring on push, the avail event and
 * the used flags on notify changes, and the buffers a device wrote
 * after the log was collected (marked again on push), direct and
 * indirect; a chain the guest rewrote in between is walked safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hw/memory.h"
#include "virtio/queue.h"

#define RAM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x4000
#define DATA 0x10000 /* buffers from here, one page each */

struct fx {
	struct guest_mem mem;
	struct virtq q;
	struct virtq_elem e;
	uint16_t size;
	uint16_t avail_idx;
};

#include "virtq_fixture.h"

#define WORDS ((RAM / 4096 + 63) / 64)

static bool page_dirty(const uint64_t *bits, gpa_t gpa)
{
	uint64_t pg = gpa / 4096;

	return bits[pg / 64] & (1ULL << (pg % 64));
}

static void collect(struct fx *f, uint64_t *bits)
{
	guest_mem_dirty_collect(&f->mem, bits, WORDS);
}

static void test_push_marks_used_ring_and_buffers(void **state)
{
	struct fx *f = *state;
	uint64_t bits[WORDS];

	qinit(f, 8, false, false);
	assert_int_equal(guest_mem_dirty_start(&f->mem), 0);
	/* A readable header, then two writable pages. */
	desc(f, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, DATA + 0x1000, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, DATA + 0x2000, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	/* The log is collected (a migration round) while the device holds the chain. */
	collect(f, bits);
	assert_true(page_dirty(bits, DATA + 0x1000));
	/* The device wrote 5000 bytes: both writable pages, not the readable one. */
	assert_int_equal(virtq_push(&f->q, 0, 5000), 0);
	collect(f, bits);
	assert_true(page_dirty(bits, USED));
	assert_true(page_dirty(bits, DATA + 0x1000));
	assert_true(page_dirty(bits, DATA + 0x2000));
	assert_false(page_dirty(bits, DATA));
	assert_false(page_dirty(bits, DESC));

	/* Only as far as the device wrote. */
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	collect(f, bits);
	assert_int_equal(virtq_push(&f->q, 0, 100), 0);
	collect(f, bits);
	assert_true(page_dirty(bits, DATA + 0x1000));
	assert_false(page_dirty(bits, DATA + 0x2000));
	guest_mem_dirty_stop(&f->mem);
}

static void test_push_marks_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t bits[WORDS];

	qinit(f, 8, false, true);
	assert_int_equal(guest_mem_dirty_start(&f->mem), 0);
	desc_at(f, DATA, DATA + 0x3000, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(f, DATA + 16, DATA + 0x5000, 4096, VIRTQ_DESC_F_WRITE, 0);
	desc(f, 0, DATA, 32, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	collect(f, bits);
	assert_int_equal(virtq_push(&f->q, 0, 8192), 0);
	collect(f, bits);
	assert_true(page_dirty(bits, DATA + 0x3000));
	assert_true(page_dirty(bits, DATA + 0x5000));
	guest_mem_dirty_stop(&f->mem);
}

static void test_rewritten_chain_is_safe(void **state)
{
	struct fx *f = *state;
	uint64_t bits[WORDS];

	qinit(f, 4, false, true);
	assert_int_equal(guest_mem_dirty_start(&f->mem), 0);
	desc(f, 0, DATA, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	/* The guest turns the chain into a loop, outside RAM, a bad indirect table. */
	desc(f, 0, DATA, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc(f, 1, 0xfffffffff000ULL, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	desc(f, 2, DATA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	assert_int_equal(virtq_push(&f->q, 0, UINT32_MAX), 0);
	desc(f, 3, DATA, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	desc(f, 3, 0xfffffffff000ULL, 48, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(virtq_push(&f->q, 3, 4096), 0);
	desc(f, 3, DATA, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(virtq_pop(&f->q, &f->e), 1);
	/* An indirect table pointing at itself (nested indirect): stops. */
	desc_at(f, DATA, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc(f, 3, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	assert_int_equal(virtq_push(&f->q, 3, 4096), 0);
	collect(f, bits);
	assert_true(page_dirty(bits, USED));
	guest_mem_dirty_stop(&f->mem);
}

static void test_notify_marks(void **state)
{
	struct fx *f = *state;
	uint64_t bits[WORDS];

	qinit(f, 8, false, false);
	assert_int_equal(guest_mem_dirty_start(&f->mem), 0);
	virtq_set_notify(&f->q, false);
	collect(f, bits);
	assert_true(page_dirty(bits, USED));
	qinit(f, 8, true, false);
	virtq_set_notify(&f->q, true);
	collect(f, bits);
	assert_true(page_dirty(bits, USED));
	guest_mem_dirty_stop(&f->mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_marks_used_ring_and_buffers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_push_marks_indirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewritten_chain_is_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify_marks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
