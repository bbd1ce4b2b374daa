/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fixture for queue-level unit tests: guest RAM with one split ring
 * written by hand, the way a driver (or a hostile guest) lays it out.
 *
 * The includer defines, before including this (after <cmocka.h>):
 * RAM (guest RAM bytes); DESC, AVAIL, USED (the ring's parts); BUF (the
 * first byte above the ring, which qinit clears up to); and struct fx
 * with at least these members:
 *	struct guest_mem mem;
 *	struct virtq q;
 *	struct virtq_elem e;
 *	uint16_t size;
 *	uint16_t avail_idx;	(the driver's copy)
 * setup/teardown are cmocka fixtures that give each test a zeroed fx.
 */
#ifndef OSPREY_TESTS_VIRTQ_FIXTURE_H
#define OSPREY_TESTS_VIRTQ_FIXTURE_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/queue.h"

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, RAM)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	guest_mem_destroy(&f->mem);
	free(f);
	return 0;
}

static inline uint8_t *gp(struct fx *f, gpa_t gpa, uint64_t len)
{
	uint8_t *p = guest_mem_ptr(&f->mem, gpa, len);

	assert_non_null(p);
	return p;
}

static inline void w16(struct fx *f, gpa_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(gp(f, gpa, 2), &v, 2);
}

static inline uint16_t r16(struct fx *f, gpa_t gpa)
{
	uint16_t v;

	memcpy(&v, gp(f, gpa, 2), 2);
	return le16toh(v);
}

static inline uint32_t r32(struct fx *f, gpa_t gpa)
{
	uint32_t v;

	memcpy(&v, gp(f, gpa, 4), 4);
	return le32toh(v);
}

/* A descriptor at any guest address (ring table or indirect table). */
static inline void desc_at(struct fx *f, gpa_t gpa, uint64_t addr, uint32_t len, uint16_t flags,
			   uint16_t next)
{
	uint8_t *p = gp(f, gpa, 16);

	addr = htole64(addr);
	len = htole32(len);
	flags = htole16(flags);
	next = htole16(next);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Descriptor i of the ring's table. */
static inline void desc(struct fx *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
			uint16_t next)
{
	desc_at(f, DESC + 16 * (uint64_t)i, addr, len, flags, next);
}

static inline void set_avail_idx(struct fx *f, uint16_t idx)
{
	f->avail_idx = idx;
	w16(f, AVAIL + 2, idx);
}

/* The driver offers one chain. */
static inline void offer(struct fx *f, uint16_t head)
{
	w16(f, AVAIL + 4 + 2 * (uint64_t)(f->avail_idx & (f->size - 1)), head);
	set_avail_idx(f, f->avail_idx + 1);
}

/* A cleared ring of size entries, and the device's virtq on it. */
static inline void qinit(struct fx *f, uint16_t size, bool event_idx, bool indirect)
{
	memset(gp(f, DESC, BUF - DESC), 0, BUF - DESC);
	f->size = size;
	f->avail_idx = 0;
	assert_int_equal(virtq_init(&f->q, &f->mem, size, DESC, AVAIL, USED, event_idx, indirect),
			 0);
}

#endif
