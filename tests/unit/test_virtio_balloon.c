// SPDX-License-Identifier: Apache-2.0
/*
 * virtio/balloon: PFN validation and inflate parsing over synthetic
 * chains, statistics parsing, the device over hand-built rings (inflate
 * returns pages to the host, deflate, the statistics buffer cycle,
 * config space, the runtime target), and the --balloon option parser.
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

#include <cmocka.h>

#include "base/util.h"
#include "virtio/balloon.h"
#include "virtio_driver.h"
#include "vmm/config.h"

#define PAGE 4096ULL

/* ---- PFN parsing over a fake memory map (host pointers never touched) ---- */

#define FAKE_HOST ((uint8_t *)0x100000000000ULL)

struct ranges {
	unsigned n;
	uint8_t *host[64];
	uint64_t len[64];
};

static void record(void *opaque, void *host, uint64_t len)
{
	struct ranges *r = opaque;

	assert_true(r->n < 64);
	r->host[r->n] = host;
	r->len[r->n] = len;
	r->n++;
}

/* 4.5 GiB: RAM 0-3 GiB and 4-5.5 GiB, host-contiguous like guest_mem_init. */
static void fake_mem(struct guest_mem *mem)
{
	assert_int_equal(guest_mem_layout(mem, GiB(4) + MiB(512)), 0);
	assert_int_equal(mem->nregions, 2);
	mem->regions[0].host = FAKE_HOST;
	mem->regions[1].host = FAKE_HOST + mem->regions[0].size;
}

/* A request whose device-readable part is the PFN array, split in segments. */
static void elem_of(struct virtq_elem *e, void *buf, size_t len, const size_t *cuts, unsigned ncuts)
{
	size_t off = 0;

	memset(e, 0, sizeof(*e));
	for (unsigned i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		e->out[e->nout].iov_base = (uint8_t *)buf + off;
		e->out[e->nout].iov_len = end - off;
		e->nout++;
		off = end;
	}
	e->out_len = len;
}

static void test_pfns_valid_and_coalesced(void **state)
{
	struct guest_mem mem;
	struct virtq_elem *e = calloc(1, sizeof(*e));
	struct ranges r = { 0 };
	struct virtio_balloon_pfns res;
	uint32_t pfns[] = { 5, 6, 7, 0x100, 0x101, 3, 0xbffff, 0x100000, 0x100001 };

	(void)state;
	fake_mem(&mem);
	elem_of(e, pfns, sizeof(pfns), NULL, 0);
	virtio_balloon_parse_pfns(&mem, e, record, &r, &res);
	assert_int_equal(res.good, 9);
	assert_int_equal(res.bad, 0);
	assert_int_equal(res.dropped, 0);
	/* 5-7, 0x100-0x101, 3, then the last low page and the first high
	 * pages: contiguous on the host, so one range across the hole. */
	assert_int_equal(r.n, 4);
	assert_int_equal(res.ranges, 4);
	assert_ptr_equal(r.host[0], FAKE_HOST + 5 * PAGE);
	assert_int_equal(r.len[0], 3 * PAGE);
	assert_ptr_equal(r.host[1], FAKE_HOST + 0x100 * PAGE);
	assert_int_equal(r.len[1], 2 * PAGE);
	assert_ptr_equal(r.host[2], FAKE_HOST + 3 * PAGE);
	assert_int_equal(r.len[2], PAGE);
	assert_ptr_equal(r.host[3], FAKE_HOST + 0xbffffULL * PAGE);
	assert_int_equal(r.len[3], 3 * PAGE);
	free(e);
}

static void test_pfns_bad_skipped(void **state)
{
	struct guest_mem mem;
	struct virtq_elem *e = calloc(1, sizeof(*e));
	struct ranges r = { 0 };
	struct virtio_balloon_pfns res;
	uint32_t pfns[] = {
		0xc0000,    /* first page of the MMIO hole */
		0xfee00,    /* LAPIC */
		0xfffff,    /* last page below 4 GiB */
		10,	    /* good */
		0x160000,   /* 5.5 GiB: just past the end of RAM */
		0x7fffffff, /* far beyond */
		0xffffffff, /* the largest PFN (16 TiB) */
		11,	    /* good, continues 10 */
	};

	(void)state;
	fake_mem(&mem);
	elem_of(e, pfns, sizeof(pfns), NULL, 0);
	virtio_balloon_parse_pfns(&mem, e, record, &r, &res);
	assert_int_equal(res.good, 2);
	assert_int_equal(res.bad, 6);
	assert_int_equal(r.n, 1);
	assert_ptr_equal(r.host[0], FAKE_HOST + 10 * PAGE);
	assert_int_equal(r.len[0], 2 * PAGE);
	/* The last page of RAM is fine. */
	pfns[0] = 0x15ffff;
	elem_of(e, pfns, 4, NULL, 0);
	r.n = 0;
	virtio_balloon_parse_pfns(&mem, e, record, &r, &res);
	assert_int_equal(res.good, 1);
	assert_int_equal(r.n, 1);
	free(e);
}

static void test_pfns_segments_and_partial(void **state)
{
	struct guest_mem mem;
	struct virtq_elem *e = calloc(1, sizeof(*e));
	struct ranges r = { 0 };
	struct virtio_balloon_pfns res;
	uint8_t buf[4 * 4 + 3];
	uint32_t pfns[] = { 20, 21, 22, 40 };
	size_t cuts[] = { 1, 6, 7, 13 }; /* PFNs straddle segments */

	(void)state;
	fake_mem(&mem);
	memcpy(buf, pfns, sizeof(pfns));
	memset(buf + sizeof(pfns), 0xff, 3); /* a trailing partial PFN */
	elem_of(e, buf, sizeof(buf), cuts, 4);
	virtio_balloon_parse_pfns(&mem, e, record, &r, &res);
	assert_int_equal(res.good, 4);
	assert_int_equal(res.bad, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.len[0], 3 * PAGE);
	assert_ptr_equal(r.host[1], FAKE_HOST + 40 * PAGE);

	/* Nothing readable (a writable-only chain, or an empty one). */
	memset(e, 0, sizeof(*e));
	e->in[0].iov_base = buf;
	e->in[0].iov_len = sizeof(buf);
	e->nin = 1;
	e->in_len = sizeof(buf);
	r.n = 0;
	virtio_balloon_parse_pfns(&mem, e, record, &r, &res);
	assert_int_equal(res.good + res.bad + res.ranges, 0);
	assert_int_equal(r.n, 0);
	free(e);
}

static void test_pfns_capped(void **state)
{
	struct guest_mem mem;
	struct virtq_elem *e = calloc(1, sizeof(*e));
	unsigned n = VIRTIO_BALLOON_MAX_PFNS + 100;
	uint32_t *pfns = calloc(n, sizeof(*pfns));
	struct virtio_balloon_pfns res;

	(void)state;
	fake_mem(&mem);
	for (unsigned i = 0; i < n; i++)
		pfns[i] = 2 * i; /* no two contiguous */
	elem_of(e, pfns, n * sizeof(*pfns), NULL, 0);
	virtio_balloon_parse_pfns(&mem, e, NULL, NULL, &res);
	assert_int_equal(res.good, VIRTIO_BALLOON_MAX_PFNS);
	assert_int_equal(res.dropped, 100);
	assert_int_equal(res.ranges, VIRTIO_BALLOON_MAX_PFNS);
	free(pfns);
	free(e);
}

/* ---- statistics parsing ---- */

static size_t put_stat(uint8_t *p, uint16_t tag, uint64_t val)
{
	memcpy(p, &tag, 2);
	memcpy(p + 2, &val, 8);
	return 10;
}

static void test_stats_parse(void **state)
{
	struct virtq_elem *e = calloc(1, sizeof(*e));
	struct virtio_balloon_stats st;
	uint8_t buf[128];
	size_t len = 0;
	size_t cuts[] = { 3, 15 };

	(void)state;
	memset(&st, 0, sizeof(st));
	len += put_stat(buf + len, VIRTIO_BALLOON_S_MEMTOT, MiB(240));
	len += put_stat(buf + len, VIRTIO_BALLOON_S_MEMFREE, MiB(200));
	len += put_stat(buf + len, 0x1234, 77); /* unknown: ignored */
	len += put_stat(buf + len, VIRTIO_BALLOON_S_NR, 78); /* unknown too */
	len += put_stat(buf + len, VIRTIO_BALLOON_S_AVAIL, MiB(210));
	len += put_stat(buf + len, VIRTIO_BALLOON_S_SWAP_IN, 0);
	elem_of(e, buf, len + 7, cuts, 2); /* and a truncated last entry */
	assert_int_equal(virtio_balloon_parse_stats(e, &st), 4);
	assert_int_equal(st.stats_valid,
			 (1u << VIRTIO_BALLOON_S_MEMTOT) | (1u << VIRTIO_BALLOON_S_MEMFREE) |
				 (1u << VIRTIO_BALLOON_S_AVAIL) | (1u << VIRTIO_BALLOON_S_SWAP_IN));
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_MEMTOT], MiB(240));
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_MEMFREE], MiB(200));
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_AVAIL], MiB(210));

	/* A later, shorter buffer: only what it carries is valid. */
	len = put_stat(buf, VIRTIO_BALLOON_S_MEMFREE, MiB(100));
	elem_of(e, buf, len, NULL, 0);
	assert_int_equal(virtio_balloon_parse_stats(e, &st), 1);
	assert_int_equal(st.stats_valid, 1u << VIRTIO_BALLOON_S_MEMFREE);
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_MEMFREE], MiB(100));

	/* Only a truncated entry, and nothing at all. */
	elem_of(e, buf, 9, NULL, 0);
	assert_int_equal(virtio_balloon_parse_stats(e, &st), 0);
	assert_int_equal(st.stats_valid, 0);
	memset(e, 0, sizeof(*e));
	assert_int_equal(virtio_balloon_parse_stats(e, &st), 0);
	free(e);
}

/* ---- the device over rings ---- */

#define RAM MiB(8)
#define BUF 0x100000ULL	  /* PFN arrays and stats buffers */
#define VICTIM 0x400000ULL /* pages the guest gives up */
#define FEAT_STATS (1ULL << VIRTIO_BALLOON_F_STATS_VQ)

static struct vdrv *balloon_dev(uint64_t target, unsigned stats, bool oom)
{
	struct vm_balloon_config cfg = {
		.enabled = true,
		.target = target,
		.stats_interval = stats,
		.deflate_on_oom = oom,
	};
	void *b = virtio_balloon_alloc(&cfg);
	struct vdrv *v;

	assert_non_null(b);
	v = vd_new(&virtio_balloon_ops, b, RAM);
	assert_non_null(v);
	v->vm->balloon = &v->d;
	return v;
}

static uint64_t features(struct vdrv *v)
{
	uint64_t f;

	vd_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = vd_r32(v, VIRTIO_MMIO_DEVICE_FEATURES);
	vd_w32(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)vd_r32(v, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

static uint32_t cfg32(struct vdrv *v, uint64_t off)
{
	return vd_r32(v, VIRTIO_MMIO_CONFIG + off);
}

static void test_device_features_and_config(void **state)
{
	struct vdrv *v = balloon_dev(MiB(4), 0, false);
	uint16_t half = 0xabcd;

	(void)state;
	assert_int_equal(vd_r32(v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	assert_int_equal(features(v) & 0xffffffULL, 0); /* no stats queue, no OOM deflate */
	assert_int_equal(cfg32(v, 0), MiB(4) / PAGE);
	assert_int_equal(cfg32(v, 4), 0);
	/* The driver writes `actual`, and only that. */
	vd_w32(v, VIRTIO_MMIO_CONFIG + 4, 512);
	vd_w32(v, VIRTIO_MMIO_CONFIG + 0, 7);
	assert_int_equal(cfg32(v, 0), MiB(4) / PAGE);
	assert_int_equal(cfg32(v, 4), 512);
	virtio_mmio_write(&v->d, VIRTIO_MMIO_CONFIG + 6, (const uint8_t *)&half, 2);
	assert_int_equal(cfg32(v, 4), 0xabcd0200);
	assert_int_equal(cfg32(v, 16), 0); /* past the end */
	vd_free(v);

	v = balloon_dev(0, 5, true);
	assert_int_equal(features(v) & 0xffffffULL,
			 FEAT_STATS | (1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	vd_free(v);
}

static void test_device_inflate_returns_pages(void **state)
{
	struct vdrv *v = balloon_dev(MiB(1), 0, false);
	uint32_t pfns[] = { VICTIM / PAGE, VICTIM / PAGE + 1, 0xc0000, 0xffffffff, VICTIM / PAGE + 5 };
	struct virtio_balloon_stats st;
	uint8_t *victim = vd_ptr(v, VICTIM, 8 * PAGE);
	uint32_t len;

	(void)state;
	memset(victim, 0x5a, 8 * PAGE);
	assert_true(vd_setup(v, 0, 2, true) & VIRTIO_STATUS_DRIVER_OK);
	memcpy(vd_ptr(v, BUF, sizeof(pfns)), pfns, sizeof(pfns));
	vd_add1(v, VIRTIO_BALLOON_Q_INFLATE, BUF, sizeof(pfns), false);
	vd_kick(v, VIRTIO_BALLOON_Q_INFLATE);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_INFLATE, &len), 0);
	assert_int_equal(len, 0);
	/* Ballooned pages read back as zeros; their neighbours are intact. */
	assert_int_equal(victim[0], 0);
	assert_int_equal(victim[2 * PAGE - 1], 0);
	assert_int_equal(victim[2 * PAGE], 0x5a);
	assert_int_equal(victim[5 * PAGE + 100], 0);
	assert_int_equal(victim[6 * PAGE], 0x5a);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.inflated_pages, 3);
	assert_int_equal(st.bad_pfns, 2);
	assert_int_equal(st.inflate_reqs, 1);

	/* Deflate: accounting only, never below zero. */
	memcpy(vd_ptr(v, BUF, 8), pfns, 8);
	vd_add1(v, VIRTIO_BALLOON_Q_DEFLATE, BUF, 8, false);
	vd_kick(v, VIRTIO_BALLOON_Q_DEFLATE);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_DEFLATE, NULL), 0);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.inflated_pages, 1);
	assert_int_equal(st.deflate_reqs, 1);
	vd_add1(v, VIRTIO_BALLOON_Q_DEFLATE, BUF, 8, false);
	vd_add1(v, VIRTIO_BALLOON_Q_DEFLATE, BUF, 8, false);
	vd_kick(v, VIRTIO_BALLOON_Q_DEFLATE);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.inflated_pages, 0);
	assert_false(v->d.status & VIRTIO_STATUS_NEEDS_RESET);
	vd_free(v);
}

static void test_device_malformed_ring(void **state)
{
	struct vdrv *v = balloon_dev(0, 0, false);

	(void)state;
	vd_setup(v, 0, 2, true);
	/* A buffer outside guest RAM: the ring is malformed. */
	vd_add1(v, VIRTIO_BALLOON_Q_INFLATE, RAM - 2, 8, false);
	vd_kick(v, VIRTIO_BALLOON_Q_INFLATE);
	assert_true(vd_r32(v, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_INFLATE, NULL), -1);
	/* A driver reset brings it back. */
	vd_w32(v, VIRTIO_MMIO_STATUS, 0);
	assert_false(vd_setup(v, 0, 2, true) & VIRTIO_STATUS_NEEDS_RESET);
	vd_free(v);
}

static void test_device_stats_cycle(void **state)
{
	struct vdrv *v = balloon_dev(0, 1, false);
	struct virtio_balloon_stats st;
	uint8_t stats[40];
	size_t len = 0;
	uint16_t head;

	(void)state;
	len += put_stat(stats + len, VIRTIO_BALLOON_S_MEMTOT, MiB(200));
	len += put_stat(stats + len, VIRTIO_BALLOON_S_AVAIL, MiB(150));
	memcpy(vd_ptr(v, BUF, len), stats, len);
	/* Linux queues the first buffer (and kicks) before DRIVER_OK. */
	vd_setup(v, FEAT_STATS, 3, false);
	head = vd_add1(v, VIRTIO_BALLOON_Q_STATS, BUF, (uint32_t)len, false);
	vd_kick(v, VIRTIO_BALLOON_Q_STATS); /* ignored: not live yet */
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.stats_updates, 0);
	vd_driver_ok(v);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.stats_updates, 1);
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_MEMTOT], MiB(200));
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_AVAIL], MiB(150));
	/* The device holds the buffer until it wants new statistics. */
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_STATS, NULL), -1);
	pthread_mutex_lock(&v->d.lock);
	v->d.interrupt_status = 0;
	virtio_balloon_request_stats(&v->d);
	virtio_balloon_request_stats(&v->d); /* nothing held: no-op */
	pthread_mutex_unlock(&v->d.lock);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_STATS, NULL), head);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_STATS, NULL), -1);
	assert_true(v->d.interrupt_status & VIRTIO_INT_USED);
	/* The driver refills and requeues it. */
	put_stat(vd_ptr(v, BUF, 10), VIRTIO_BALLOON_S_AVAIL, MiB(90));
	head = vd_add1(v, VIRTIO_BALLOON_Q_STATS, BUF, 10, false);
	vd_kick(v, VIRTIO_BALLOON_Q_STATS);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.stats_updates, 2);
	assert_int_equal(st.stats_valid, 1u << VIRTIO_BALLOON_S_AVAIL);
	assert_int_equal(st.stats[VIRTIO_BALLOON_S_AVAIL], MiB(90));
	/* A second buffer while one is held: the older one comes back. */
	vd_add1(v, VIRTIO_BALLOON_Q_STATS, BUF, 10, false);
	vd_kick(v, VIRTIO_BALLOON_Q_STATS);
	assert_int_equal(vd_used(v, VIRTIO_BALLOON_Q_STATS, NULL), head);
	/* A reset drops the held buffer. */
	vd_w32(v, VIRTIO_MMIO_STATUS, 0);
	pthread_mutex_lock(&v->d.lock);
	virtio_balloon_request_stats(&v->d);
	pthread_mutex_unlock(&v->d.lock);
	vd_free(v);
}

static void test_set_target(void **state)
{
	struct vdrv *v = balloon_dev(0, 0, false);
	struct virtio_balloon_stats st;
	uint32_t gen;

	(void)state;
	vd_setup(v, 0, 2, true);
	gen = vd_r32(v, VIRTIO_MMIO_CONFIG_GENERATION);
	v->d.interrupt_status = 0;
	assert_int_equal(virtio_balloon_set_target(v->vm->balloon, MiB(2) + 100), 0);
	assert_int_equal(cfg32(v, 0), MiB(2) / PAGE);
	assert_true(v->d.interrupt_status & VIRTIO_INT_CONFIG);
	assert_int_not_equal(vd_r32(v, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	/* Unchanged: no interrupt. */
	v->d.interrupt_status = 0;
	assert_int_equal(virtio_balloon_set_target(v->vm->balloon, MiB(2)), 0);
	assert_int_equal(v->d.interrupt_status, 0);
	/* More than the guest has. */
	assert_int_equal(virtio_balloon_set_target(v->vm->balloon, RAM + PAGE), -EINVAL);
	assert_int_equal(virtio_balloon_set_target(v->vm->balloon, RAM), 0);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), 0);
	assert_int_equal(st.target_pages, RAM / PAGE);
	v->vm->balloon = NULL;
	assert_int_equal(virtio_balloon_set_target(v->vm->balloon, 0), -ENODEV);
	assert_int_equal(virtio_balloon_get_stats(v->vm->balloon, &st), -ENODEV);
	v->vm->balloon = &v->d;
	vd_free(v);
}

/* ---- the --balloon option ---- */

static int parse(const char *spec, struct vm_balloon_config *b, char *err)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", spec);
	return vm_config_parse_balloon(buf, b, err, 256);
}

static void test_option_parser(void **state)
{
	struct vm_balloon_config b;
	char err[256];

	(void)state;
	assert_int_equal(parse("target=64M,deflate-on-oom,stats=5", &b, err), 0);
	assert_true(b.enabled);
	assert_int_equal(b.target, MiB(64));
	assert_true(b.deflate_on_oom);
	assert_int_equal(b.stats_interval, 5);
	assert_int_equal(parse("target=128", &b, err), 0); /* bare number: MiB */
	assert_int_equal(b.target, MiB(128));
	assert_false(b.deflate_on_oom);
	assert_int_equal(b.stats_interval, 0);
	assert_int_equal(parse("", &b, err), 0); /* a balloon without a target */
	assert_true(b.enabled);
	assert_int_equal(b.target, 0);
	assert_int_equal(parse("target=1G,stats=0", &b, err), 0);
	assert_int_equal(b.target, GiB(1));
	assert_int_equal(parse("stats=3600", &b, err), 0);

	assert_int_equal(parse("target=", &b, err), -EINVAL);
	assert_non_null(strstr(err, "target"));
	assert_int_equal(parse("target=12345K", &b, err), -EINVAL); /* not 4 KiB pages */
	assert_int_equal(parse("target=lots", &b, err), -EINVAL);
	assert_int_equal(parse("target=99999999999999999999", &b, err), -EINVAL);
	assert_int_equal(parse("target=32T", &b, err), -EINVAL); /* past 32-bit PFNs */
	assert_int_equal(parse("stats=3601", &b, err), -EINVAL);
	assert_non_null(strstr(err, "stats"));
	assert_int_equal(parse("stats=-1", &b, err), -EINVAL);
	assert_int_equal(parse("stats=", &b, err), -EINVAL);
	assert_int_equal(parse("deflate", &b, err), -EINVAL);
	assert_non_null(strstr(err, "unknown option 'deflate'"));
}

static void test_option_validate(void **state)
{
	struct vm_config cfg;
	char err[256];
	char spec[] = "target=257M";

	(void)state;
	vm_config_init(&cfg);
	cfg.kernel_path = "/vmlinux";
	assert_int_equal(vm_config_parse_balloon(spec, &cfg.balloon, err, sizeof(err)), 0);
	assert_int_equal(vm_config_validate(&cfg, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--balloon"));
	cfg.balloon.target = cfg.mem_size;
	assert_int_equal(vm_config_validate(&cfg, 0, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pfns_valid_and_coalesced),
		cmocka_unit_test(test_pfns_bad_skipped),
		cmocka_unit_test(test_pfns_segments_and_partial),
		cmocka_unit_test(test_pfns_capped),
		cmocka_unit_test(test_stats_parse),
		cmocka_unit_test(test_device_features_and_config),
		cmocka_unit_test(test_device_inflate_returns_pages),
		cmocka_unit_test(test_device_malformed_ring),
		cmocka_unit_test(test_device_stats_cycle),
		cmocka_unit_test(test_set_target),
		cmocka_unit_test(test_option_parser),
		cmocka_unit_test(test_option_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
