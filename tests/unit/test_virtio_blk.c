// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/blk: virtio_blk_parse() on synthetic chains whose segments point
 * at local buffers (no guest memory, no image file, no KVM).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio/blk.h"

#define CAP 1024 /* sectors */

struct fx {
	struct virtq_elem e;
	struct virtio_blk_req r;
	uint8_t hdr[16];
	uint8_t data[4][4096];
	uint8_t status[4];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void set_hdr(struct fx *f, uint32_t type, uint64_t sector)
{
	memset(f->hdr, 0xee, sizeof(f->hdr)); /* reserved field: ignored */
	memcpy(f->hdr, &type, 4);
	memcpy(f->hdr + 8, &sector, 8);
}

/* Appends a readable (out) or writable (in) segment. */
static void seg(struct fx *f, bool writable, void *base, size_t len)
{
	struct iovec *iov = writable ? &f->e.in[f->e.nin++] : &f->e.out[f->e.nout++];

	iov->iov_base = base;
	iov->iov_len = len;
	if (writable)
		f->e.in_len += len;
	else
		f->e.out_len += len;
}

/* header (16 bytes, readable) + the caller's segments. */
static void start(struct fx *f, uint32_t type, uint64_t sector)
{
	memset(&f->e, 0, sizeof(f->e));
	set_hdr(f, type, sector);
	seg(f, false, f->hdr, sizeof(f->hdr));
}

static void parse(struct fx *f, uint64_t cap, bool ro, bool flush)
{
	memset(&f->r, 0xcc, sizeof(f->r));
	virtio_blk_parse(&f->e, cap, ro, flush, &f->r);
}

static uint64_t iov_total(const struct iovec *iov, unsigned n)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

static void assert_rejected(struct fx *f, uint8_t result)
{
	assert_false(f->r.execute);
	assert_int_equal(f->r.result, result);
}

/* ---- well-formed requests ---- */

static void test_read(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, 7);
	seg(f, true, f->data[0], 1024);
	seg(f, true, f->data[1], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_IN);
	assert_int_equal(f->r.sector, 7);
	assert_ptr_equal(f->r.status, &f->status[0]);
	assert_int_equal(f->r.data_len, 1536);
	assert_ptr_equal(f->r.data, f->e.in);
	assert_true(f->r.ndata >= 2);
	assert_ptr_equal(f->r.data[0].iov_base, f->data[0]);
	assert_int_equal(f->r.data[0].iov_len, 1024);
	assert_ptr_equal(f->r.data[1].iov_base, f->data[1]);
	assert_int_equal(f->r.data[1].iov_len, 512);
	assert_int_equal(iov_total(f->r.data, f->r.ndata), 1536);
}

/* The status byte may share the last writable segment with data. */
static void test_read_status_in_data_segment(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 513);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_ptr_equal(f->r.status, &f->data[0][512]);
	assert_int_equal(f->r.data_len, 512);
	assert_int_equal(iov_total(f->r.data, f->r.ndata), 512);
}

static void test_read_up_to_capacity(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, CAP - 2);
	seg(f, true, f->data[0], 1024);
	seg(f, true, f->status, 1);
	parse(f, CAP, true, false); /* reads are fine on a read-only disk */
	assert_true(f->r.execute);
	assert_int_equal(f->r.data_len, 1024);
}

/* Zero-length data at the end of the disk: nothing to do, but valid. */
static void test_read_no_data(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, CAP);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.data_len, 0);
	assert_ptr_equal(f->r.status, f->status);
}

static void test_write(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_OUT, 100);
	seg(f, false, f->data[0], 512);
	seg(f, false, f->data[1], 2048);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_OUT);
	assert_int_equal(f->r.sector, 100);
	assert_ptr_equal(f->r.data, f->e.out);
	assert_int_equal(f->r.ndata, 2); /* the header segment is gone */
	assert_ptr_equal(f->r.data[0].iov_base, f->data[0]);
	assert_int_equal(f->r.data[0].iov_len, 512);
	assert_ptr_equal(f->r.data[1].iov_base, f->data[1]);
	assert_int_equal(f->r.data[1].iov_len, 2048);
	assert_int_equal(f->r.data_len, 2560);
	assert_ptr_equal(f->r.status, f->status);
}

/* One readable buffer holding the header and the data behind it. */
static void test_write_header_and_data_in_one_segment(void **state)
{
	struct fx *f = *state;
	uint8_t *b = f->data[0];
	uint32_t type = VIRTIO_BLK_T_OUT;
	uint64_t sector = 3;

	memset(&f->e, 0, sizeof(f->e));
	memcpy(b, &type, 4);
	memcpy(b + 8, &sector, 8);
	seg(f, false, b, 16 + 1024);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.sector, 3);
	assert_int_equal(f->r.ndata, 1);
	assert_ptr_equal(f->r.data[0].iov_base, b + 16);
	assert_int_equal(f->r.data[0].iov_len, 1024);
	assert_int_equal(f->r.data_len, 1024);
}

/* The 16-byte header split over two (and three) readable segments. */
static void test_header_spanning_segments(void **state)
{
	struct fx *f = *state;

	memset(&f->e, 0, sizeof(f->e));
	set_hdr(f, VIRTIO_BLK_T_OUT, 9);
	seg(f, false, f->hdr, 5);
	seg(f, false, f->hdr + 5, 11);
	seg(f, false, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_OUT);
	assert_int_equal(f->r.sector, 9);
	assert_int_equal(f->r.ndata, 1);
	assert_ptr_equal(f->r.data[0].iov_base, f->data[0]);
	assert_int_equal(f->r.data_len, 512);

	/* header ends inside a segment that carries data too */
	memset(&f->e, 0, sizeof(f->e));
	memcpy(f->data[1], f->hdr, 16);
	seg(f, false, f->data[1], 1);
	seg(f, false, f->data[1] + 1, 1);
	seg(f, false, f->data[1] + 2, 14 + 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.sector, 9);
	assert_int_equal(f->r.ndata, 1);
	assert_ptr_equal(f->r.data[0].iov_base, f->data[1] + 16);
	assert_int_equal(f->r.data[0].iov_len, 512);
	assert_int_equal(f->r.data_len, 512);
}

static void test_flush(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_FLUSH, 12345678); /* the sector is ignored */
	seg(f, true, f->status, 1);
	parse(f, CAP, false, true);
	assert_true(f->r.execute);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_FLUSH);
	assert_ptr_equal(f->r.status, f->status);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_GET_ID, 0);
	seg(f, true, f->data[0], VIRTIO_BLK_ID_BYTES);
	seg(f, true, f->status, 1);
	parse(f, CAP, true, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.type, VIRTIO_BLK_T_GET_ID);
	assert_ptr_equal(f->r.data, f->e.in);
	assert_int_equal(f->r.data_len, VIRTIO_BLK_ID_BYTES);
	assert_ptr_equal(f->r.data[0].iov_base, f->data[0]);
	assert_ptr_equal(f->r.status, f->status);

	/* a short ID buffer is the driver's business */
	start(f, VIRTIO_BLK_T_GET_ID, 0);
	seg(f, true, f->data[0], 4);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.data_len, 3);
	assert_ptr_equal(f->r.status, &f->data[0][3]);
}

/* ---- rejected requests ---- */

static void test_sector_overflow(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, UINT64_MAX);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, UINT64_MAX, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
	assert_ptr_equal(f->r.status, f->status);

	start(f, VIRTIO_BLK_T_OUT, UINT64_MAX - 1);
	seg(f, false, f->data[0], 1024);
	seg(f, true, f->status, 1);
	parse(f, UINT64_MAX, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);

	/* the last sector of a disk that large is still reachable */
	start(f, VIRTIO_BLK_T_IN, UINT64_MAX - 1);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, UINT64_MAX, false, false);
	assert_true(f->r.execute);
}

static void test_past_capacity(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, CAP - 1);
	seg(f, true, f->data[0], 1024);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);

	start(f, VIRTIO_BLK_T_OUT, CAP);
	seg(f, false, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);

	start(f, VIRTIO_BLK_T_IN, CAP + 1);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);

	/* an empty disk takes no I/O at all */
	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, 0, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
}

static void test_length_not_sector_multiple(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 511);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);

	start(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, false, f->data[0], 512);
	seg(f, false, f->data[1], 1);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
	assert_ptr_equal(f->r.status, f->status);
}

static void test_write_read_only(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, false, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, true, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
	assert_ptr_equal(f->r.status, f->status);
}

static void test_flush_unsupported(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_FLUSH, 0);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_UNSUPP);
	assert_ptr_equal(f->r.status, f->status);
}

static void test_unknown_type(void **state)
{
	static const uint32_t types[] = { 2, 3, 5, 11, 13, 0x80000000u, UINT32_MAX };
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		start(f, types[i], 0);
		seg(f, true, f->data[0], 512);
		seg(f, true, f->status, 1);
		parse(f, CAP, false, true);
		assert_rejected(f, VIRTIO_BLK_S_UNSUPP);
		assert_int_equal(f->r.type, types[i]);
		assert_ptr_equal(f->r.status, f->status);
	}
}

/* No writable byte: nowhere to put a status, nothing is executed. */
static void test_no_status(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, false, f->data[0], 512);
	parse(f, CAP, false, false);
	assert_false(f->r.execute);
	assert_null(f->r.status);

	start(f, VIRTIO_BLK_T_FLUSH, 0);
	parse(f, CAP, false, true);
	assert_false(f->r.execute);
	assert_null(f->r.status);

	/* only zero-length writable segments */
	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 0);
	seg(f, true, f->status, 0);
	parse(f, CAP, false, false);
	assert_false(f->r.execute);
	assert_null(f->r.status);
}

/* Zero-length trailing writable segments are skipped for the status byte. */
static void test_status_before_zero_length_tail(void **state)
{
	struct fx *f = *state;

	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 1);
	seg(f, true, f->data[1], 0);
	seg(f, true, f->data[2], 0);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_ptr_equal(f->r.status, f->status);
	assert_int_equal(f->r.data_len, 512);
	assert_int_equal(iov_total(f->r.data, f->r.ndata), 512);

	/* the status "descriptor" is zero-length: the last data byte takes it */
	start(f, VIRTIO_BLK_T_IN, 0);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 0);
	parse(f, CAP, false, false);
	assert_ptr_equal(f->r.status, &f->data[0][511]);
	assert_rejected(f, VIRTIO_BLK_S_IOERR); /* 511 data bytes left */

	start(f, VIRTIO_BLK_T_FLUSH, 0);
	seg(f, true, f->status, 0);
	seg(f, true, f->data[0], 0);
	parse(f, CAP, false, true);
	assert_false(f->r.execute);
	assert_null(f->r.status);
}

static void test_short_header(void **state)
{
	struct fx *f = *state;

	for (size_t len = 0; len < 16; len++) {
		memset(&f->e, 0, sizeof(f->e));
		set_hdr(f, VIRTIO_BLK_T_FLUSH, 0);
		if (len)
			seg(f, false, f->hdr, len);
		seg(f, true, f->status, 1);
		parse(f, CAP, false, true);
		assert_rejected(f, VIRTIO_BLK_S_IOERR);
		assert_ptr_equal(f->r.status, f->status);
	}

	/* 15 bytes spread over segments */
	memset(&f->e, 0, sizeof(f->e));
	set_hdr(f, VIRTIO_BLK_T_IN, 0);
	seg(f, false, f->hdr, 8);
	seg(f, false, f->hdr + 8, 7);
	seg(f, true, f->data[0], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
	assert_ptr_equal(f->r.status, f->status);

	/* a header in writable memory is no header */
	memset(&f->e, 0, sizeof(f->e));
	set_hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	seg(f, true, f->hdr, 16);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, true);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
}

static void test_empty_chain(void **state)
{
	struct fx *f = *state;

	memset(&f->e, 0, sizeof(f->e));
	parse(f, CAP, false, true);
	assert_false(f->r.execute);
	assert_null(f->r.status);
	assert_int_equal(f->r.data_len, 0);
	assert_int_equal(f->r.ndata, 0);
}

/* Many data segments, the status byte in the last one. */
static void test_many_segments(void **state)
{
	struct fx *f = *state;
	static uint8_t big[VIRTQ_MAX_SEGS - 1][512];

	start(f, VIRTIO_BLK_T_IN, 0);
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS - 2; i++)
		seg(f, true, big[i], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_true(f->r.execute);
	assert_int_equal(f->r.data_len, 512ULL * (VIRTQ_MAX_SEGS - 2));
	assert_int_equal(iov_total(f->r.data, f->r.ndata), f->r.data_len);
	assert_ptr_equal(f->r.status, f->status);

	/* the same, one sector past the end of the disk */
	start(f, VIRTIO_BLK_T_IN, CAP - (VIRTQ_MAX_SEGS - 2) + 1);
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS - 2; i++)
		seg(f, true, big[i], 512);
	seg(f, true, f->status, 1);
	parse(f, CAP, false, false);
	assert_rejected(f, VIRTIO_BLK_S_IOERR);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_read),
		T(test_read_status_in_data_segment),
		T(test_read_up_to_capacity),
		T(test_read_no_data),
		T(test_write),
		T(test_write_header_and_data_in_one_segment),
		T(test_header_spanning_segments),
		T(test_flush),
		T(test_get_id),
		T(test_sector_overflow),
		T(test_past_capacity),
		T(test_length_not_sector_multiple),
		T(test_write_read_only),
		T(test_flush_unsupported),
		T(test_unknown_type),
		T(test_no_status),
		T(test_status_before_zero_length_tail),
		T(test_short_header),
		T(test_empty_chain),
		T(test_many_segments),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
