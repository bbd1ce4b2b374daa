/* SPDX-License-Identifier: Apache-2.0 */
/*
 * I/O buses: a sorted range map for port I/O and one for MMIO. Devices
 * register ranges at machine construction; afterwards the map is
 * read-only, so vCPU threads look it up without locking. Every exit goes
 * through bus_dispatch() with one handler signature.
 */
#ifndef OSPREY_HW_BUS_H
#define OSPREY_HW_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* offset is relative to the registered base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	struct bus_range ranges[BUS_MAX_RANGES];
	unsigned nranges;
	uint64_t unclaimed; /* accesses that hit no device (statistics) */
};

void bus_init(struct bus *bus, const char *name);

/* -EEXIST on overlap, -ENOSPC when full, -EINVAL on an empty range. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const char *name,
		 const struct bus_ops *ops, void *opaque);

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);

/*
 * Dispatches one access. Unclaimed reads return all ones; unclaimed writes
 * are dropped. Returns false when no device claimed the address.
 */
bool bus_dispatch(struct bus *bus, uint64_t addr, bool is_write, uint8_t *data,
		  unsigned len);

#endif
