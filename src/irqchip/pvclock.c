// SPDX-License-Identifier: Apache-2.0
/* kvmclock (pvclock) time info and wall clock writers (see pvclock.h). */
#include "irqchip/pvclock.h"

#include <errno.h>
#include <string.h>

/* The version goes odd, the fields change, the version goes even. */
static uint32_t begin_update(uint32_t *version)
{
	uint32_t v = (__atomic_load_n(version, __ATOMIC_RELAXED) + 1) | 1;

	__atomic_store_n(version, v, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return v;
}

static void end_update(uint32_t *version, uint32_t v)
{
	__atomic_store_n(version, v + 1, __ATOMIC_RELEASE);
}

void pvclock_fill_time_info(struct pvclock_vcpu_time_info *ti, uint64_t tsc,
			    uint64_t system_time_ns, uint8_t flags)
{
	uint32_t v = begin_update(&ti->version);

	ti->tsc_timestamp = tsc;
	ti->system_time = system_time_ns;
	ti->tsc_to_system_mul = PVCLOCK_1GHZ_MUL;
	ti->tsc_shift = PVCLOCK_1GHZ_SHIFT;
	ti->flags = flags;
	ti->pad0 = 0;
	ti->pad[0] = ti->pad[1] = 0;
	end_update(&ti->version, v);
}

void pvclock_fill_wall_clock(struct pvclock_wall_clock *wc, uint64_t boot_wall_ns)
{
	uint32_t v = begin_update(&wc->version);

	wc->sec = (uint32_t)(boot_wall_ns / 1000000000ULL);
	wc->nsec = (uint32_t)(boot_wall_ns % 1000000000ULL);
	end_update(&wc->version, v);
}

int pvclock_write_time_info(const struct guest_mem *mem, uint64_t gpa, uint64_t tsc,
			    uint64_t system_time_ns, uint8_t flags)
{
	uint8_t *p = guest_mem_ptr(mem, gpa, sizeof(struct pvclock_vcpu_time_info));
	struct pvclock_vcpu_time_info ti = {
		.tsc_timestamp = tsc,
		.system_time = system_time_ns,
		.tsc_to_system_mul = PVCLOCK_1GHZ_MUL,
		.tsc_shift = PVCLOCK_1GHZ_SHIFT,
		.flags = flags,
	};
	uint32_t v;

	/* The version field is accessed atomically: keep it 4-byte aligned. */
	if (!p || (gpa & 3))
		return -EFAULT;
	/*
	 * The guest chose the address: only 4-byte alignment is known, so
	 * the 64-bit fields are not stored through a struct pointer (an
	 * unaligned one is undefined behaviour in C); the version is the
	 * first field, 4-byte aligned.
	 */
	v = begin_update((uint32_t *)(void *)p);
	memcpy(p + sizeof(ti.version), (const uint8_t *)&ti + sizeof(ti.version), sizeof(ti) - sizeof(ti.version));
	end_update((uint32_t *)(void *)p, v);
	/* Host code wrote guest RAM: decoded code of the page (if any) is stale. */
	guest_mem_written(mem, gpa, sizeof(ti));
	return 0;
}

int pvclock_write_wall_clock(const struct guest_mem *mem, uint64_t gpa, uint64_t boot_wall_ns)
{
	struct pvclock_wall_clock *wc = guest_mem_ptr(mem, gpa, sizeof(struct pvclock_wall_clock));

	if (!wc || (gpa & 3))
		return -EFAULT;
	pvclock_fill_wall_clock(wc, boot_wall_ns);
	guest_mem_written(mem, gpa, sizeof(*wc));
	return 0;
}

uint64_t pvclock_read(const struct pvclock_vcpu_time_info *ti, uint64_t tsc)
{
	uint64_t delta = tsc - ti->tsc_timestamp;

	if (ti->tsc_shift >= 0)
		delta <<= ti->tsc_shift;
	else
		delta >>= -ti->tsc_shift;
	delta = (uint64_t)(((unsigned __int128)delta * ti->tsc_to_system_mul) >> 32);
	return ti->system_time + delta;
}
