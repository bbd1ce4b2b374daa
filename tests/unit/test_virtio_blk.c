// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/blk: virtio_blk_parse() on synthetic chains whose segments point
 * at local buffers (no guest memory, no image file, no KVM); and the
 * device over hand-built rings on a temporary image: rate limits delay
 * requests without losing any, and hold the configured throughput.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/metrics.h"
#include "virtio/blk.h"
#include "virtio_driver.h"
#include "vmm/config.h"

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

/* ---- the device over rings, with rate limits ---- */

#define DEV_RAM (1 << 20)
#define IMG_SECTORS 256 /* 128 KiB */
#define HDR_GPA 0x30000ULL
#define DATA_GPA 0x40000ULL

struct devfx {
	char path[64];
	struct vm_disk_config cfg;
	struct vdrv *v;
	unsigned done;
};

/* A temporary image whose byte i is (i * 7) & 0xff. */
static void make_image(char *path, size_t pathlen, unsigned sectors, uint8_t salt)
{
	uint8_t buf[VIRTIO_BLK_SECTOR];
	int fd;

	snprintf(path, pathlen, "/tmp/osprey-blk-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (unsigned s = 0; s < sectors; s++) {
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)(((s * VIRTIO_BLK_SECTOR + i) * 7) ^ salt);
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	}
	close(fd);
}

static void dev_start(struct devfx *f, const struct rate_limiter_config *rl, bool ro)
{
	void *b;

	memset(f, 0, sizeof(*f));
	make_image(f->path, sizeof(f->path), IMG_SECTORS, 0);
	f->cfg.path = f->path;
	f->cfg.read_only = ro;
	f->cfg.cache = DISK_CACHE_WRITEBACK;
	if (rl)
		f->cfg.rate_limit = *rl;
	b = virtio_blk_alloc(&f->cfg);
	assert_non_null(b);
	f->v = vd_new(&virtio_blk_ops, b, DEV_RAM);
	assert_non_null(f->v);
	assert_true(vd_setup(f->v, 0, 1, true) & VIRTIO_STATUS_DRIVER_OK);
}

static void dev_stop(struct devfx *f)
{
	vd_free(f->v);
	unlink(f->path);
}

/* Request i: type at sector, len data bytes; data and status in one segment. */
static void dev_req(struct devfx *f, unsigned i, uint32_t type, uint64_t sector, uint32_t len)
{
	gpa_t hdr = HDR_GPA + 16ULL * i, data = DATA_GPA + 0x2000ULL * i;
	uint8_t *h = vd_ptr(f->v, hdr, 16);
	struct vd_seg segs[2] = {
		{ .gpa = hdr, .len = 16, .write = false },
		{ .gpa = data, .len = len + 1, .write = true },
	};

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	memset(vd_ptr(f->v, data, len + 1), 0xaa, len + 1);
	vd_add(f->v, 0, segs, 2);
}

/* Collects completions; checks each read's data and status. */
static unsigned dev_collect(struct devfx *f, uint32_t len)
{
	int head;
	uint32_t used_len;
	unsigned n = 0;

	while ((head = vd_used(f->v, 0, &used_len)) >= 0) {
		unsigned i = (unsigned)head / 2; /* two descriptors per request */
		uint8_t *data = vd_ptr(f->v, DATA_GPA + 0x2000ULL * i, len + 1);

		assert_int_equal(used_len, len + 1);
		assert_int_equal(data[len], VIRTIO_BLK_S_OK);
		for (uint32_t k = 0; k < len; k++)
			assert_int_equal(data[k], (uint8_t)(((i * len) + k) * 7));
		n++;
	}
	f->done += n;
	return n;
}

/*
 * Regression: seg_max + 2 descriptors fit in one chain of the largest
 * queue (Linux chains seg_max data segments indirectly; a larger seg_max
 * made a 1 MiB O_DIRECT read break the queue), and such a chain works.
 */
static void test_dev_seg_max_fits_queue(void **state)
{
	struct devfx f;
	uint32_t seg_max = 0, qmax;
	static struct vd_seg segs[VD_QSIZE];

	(void)state;
	dev_start(&f, NULL, false);
	virtio_mmio_read(&f.v->d, VIRTIO_MMIO_CONFIG + 12, (uint8_t *)&seg_max, 4);
	vd_w32(f.v, VIRTIO_MMIO_QUEUE_SEL, 0);
	qmax = vd_r32(f.v, VIRTIO_MMIO_QUEUE_NUM_MAX);
	assert_true(seg_max >= 1);
	assert_true(seg_max + 2 <= qmax);
	/* the test rings have VD_QSIZE entries: a full-length chain on them */
	uint8_t *h = vd_ptr(f.v, HDR_GPA, 16);
	uint32_t type = VIRTIO_BLK_T_IN;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	segs[0] = (struct vd_seg){ .gpa = HDR_GPA, .len = 16, .write = false };
	for (unsigned i = 1; i < VD_QSIZE - 1; i++)
		segs[i] = (struct vd_seg){ .gpa = DATA_GPA + 512ULL * (i - 1), .len = 512,
					   .write = true };
	segs[VD_QSIZE - 1] = (struct vd_seg){ .gpa = HDR_GPA + 16, .len = 1, .write = true };
	*vd_ptr(f.v, HDR_GPA + 16, 1) = 0xff;
	vd_add(f.v, 0, segs, VD_QSIZE);
	vd_kick(f.v, 0);
	assert_int_equal(vd_used(f.v, 0, NULL), 0);
	assert_int_equal(*vd_ptr(f.v, HDR_GPA + 16, 1), VIRTIO_BLK_S_OK);
	assert_false(f.v->d.status & VIRTIO_STATUS_NEEDS_RESET);
	dev_stop(&f);
}

static void test_dev_unlimited(void **state)
{
	struct devfx f;

	(void)state;
	dev_start(&f, NULL, false);
	for (unsigned i = 0; i < 8; i++)
		dev_req(&f, i, VIRTIO_BLK_T_IN, i * 8, 4096);
	vd_kick(f.v, 0);
	assert_int_equal(dev_collect(&f, 4096), 8);
	assert_false(virtio_dev_throttled(&f.v->d, 0));
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->read_count, 8);
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->read_bytes, 8 * 4096);
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->rate_limiter_throttled, 0);
	dev_stop(&f);
}

/* One request per 30 ms: the rest wait on the ring, none is lost. */
static void test_dev_ops_limit_delays(void **state)
{
	struct rate_limiter_config rl = { .ops = { .size = 1, .refill_time_ms = 30 } };
	const struct virtio_blk_metrics *m;
	struct devfx f;
	uint64_t t0;

	(void)state;
	dev_start(&f, &rl, false);
	m = virtio_blk_get_metrics(&f.v->d);
	for (unsigned i = 0; i < 4; i++)
		dev_req(&f, i, VIRTIO_BLK_T_IN, i, 512);
	t0 = vd_now_ms();
	vd_kick(f.v, 0);
	assert_int_equal(dev_collect(&f, 512), 1);
	assert_true(virtio_dev_throttled(&f.v->d, 0));
	assert_int_equal(m->rate_limiter_throttled, 1);
	vd_kick(f.v, 0); /* kicks while paused change nothing */
	assert_int_equal(dev_collect(&f, 512), 0);
	assert_int_equal(m->rate_limiter_throttled, 1);
	while (f.done < 4) {
		assert_true(vd_wait_throttle(f.v, 1000));
		dev_collect(&f, 512);
	}
	assert_true(vd_now_ms() - t0 >= 3 * 30 - 5);
	assert_false(virtio_dev_throttled(&f.v->d, 0));
	assert_int_equal(m->read_count, 4);
	assert_int_equal(m->rate_limiter_throttled, 3);
	assert_false(vd_r32(f.v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	dev_stop(&f);
}

/* 8 KiB per 40 ms: 32 KiB takes at least (32 - 8) / 8 * 40 ms. */
static void test_dev_bandwidth_limit(void **state)
{
	struct rate_limiter_config rl = { .bandwidth = { .size = 8192, .refill_time_ms = 40 } };
	struct devfx f;
	uint64_t t0, dt;

	(void)state;
	dev_start(&f, &rl, false);
	for (unsigned i = 0; i < 8; i++)
		dev_req(&f, i, VIRTIO_BLK_T_IN, i * 8, 4096);
	t0 = vd_now_ms();
	vd_kick(f.v, 0);
	assert_int_equal(dev_collect(&f, 4096), 2); /* the full bucket */
	while (f.done < 8) {
		assert_true(vd_wait_throttle(f.v, 1000));
		dev_collect(&f, 4096);
	}
	dt = vd_now_ms() - t0;
	assert_true(dt >= 120 - 5);
	assert_true(dt < 2000);
	assert_int_equal(virtio_blk_get_metrics(&f.v->d)->read_bytes, 8 * 4096);
	dev_stop(&f);
}

/* A reset while paused: the pause ends, the device starts afresh. */
static void test_dev_reset_while_throttled(void **state)
{
	struct rate_limiter_config rl = { .ops = { .size = 1, .refill_time_ms = 10000 } };
	struct devfx f;

	(void)state;
	dev_start(&f, &rl, false);
	dev_req(&f, 0, VIRTIO_BLK_T_IN, 0, 512);
	dev_req(&f, 1, VIRTIO_BLK_T_IN, 1, 512);
	vd_kick(f.v, 0);
	assert_int_equal(dev_collect(&f, 512), 1);
	assert_true(virtio_dev_throttled(&f.v->d, 0));
	vd_w32(f.v, VIRTIO_MMIO_STATUS, 0);
	assert_false(virtio_dev_throttled(&f.v->d, 0));
	assert_false(vd_wait_throttle(f.v, 50)); /* disarmed */
	dev_stop(&f);
}

/* The group "block_<file name>" appears in the metrics line. */
static void test_dev_metrics_group(void **state)
{
	struct devfx f;
	char *line, want[96];

	(void)state;
	dev_start(&f, NULL, false);
	dev_req(&f, 0, VIRTIO_BLK_T_IN, 0, 512);
	vd_kick(f.v, 0);
	dev_collect(&f, 512);
	line = metrics_render();
	snprintf(want, sizeof(want), "\"block_%s\":{\"read_bytes\":512,", strrchr(f.path, '/') + 1);
	assert_non_null(strstr(line, want));
	free(line);
	dev_stop(&f);
	line = metrics_render();
	assert_null(strstr(line, want)); /* unregistered with the device */
	free(line);
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
		cmocka_unit_test(test_dev_seg_max_fits_queue),
		cmocka_unit_test(test_dev_unlimited),
		cmocka_unit_test(test_dev_ops_limit_delays),
		cmocka_unit_test(test_dev_bandwidth_limit),
		cmocka_unit_test(test_dev_reset_while_throttled),
		cmocka_unit_test(test_dev_metrics_group),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
