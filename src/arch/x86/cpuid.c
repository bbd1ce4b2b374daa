// SPDX-License-Identifier: Apache-2.0
/* CPUID tables: allocation, lookup, per-vCPU topology (cpuid.h). */
#include "arch/x86/cpuid.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct cpuid_table *cpuid_alloc(unsigned nent)
{
	struct cpuid_table *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	if (c)
		c->nent = nent;
	return c;
}

struct cpuid_table *cpuid_dup(const struct cpuid_table *c)
{
	struct cpuid_table *d = cpuid_alloc(c->nent);

	if (d)
		memcpy(d->entries, c->entries, c->nent * sizeof(c->entries[0]));
	return d;
}

struct cpuid_entry *cpuid_find(struct cpuid_table *c, uint32_t function, uint32_t index)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct cpuid_entry *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & CPUID_FLAG_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static const struct cpuid_entry *cpuid_find_const(const struct cpuid_table *c, uint32_t function,
						  uint32_t index)
{
	return cpuid_find((struct cpuid_table *)(uintptr_t)c, function, index);
}

void cpuid_lookup(const struct cpuid_table *c, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	const struct cpuid_entry *e, *max_basic = cpuid_find_const(c, 0, 0);
	uint32_t max;

	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf >= 0x80000000u) {
		e = cpuid_find_const(c, 0x80000000u, 0);
		max = e ? e->eax : 0;
	} else if (leaf >= 0x40000000u) {
		e = cpuid_find_const(c, 0x40000000u, 0);
		max = e ? e->eax : 0;
		if (leaf > max)
			return;
	} else {
		max = max_basic ? max_basic->eax : 0;
	}
	if (leaf > max) {
		/* Intel: an invalid leaf answers as the highest basic leaf. */
		leaf = max_basic ? max_basic->eax : 0;
	}
	e = cpuid_find_const(c, leaf, subleaf);
	if (!e)
		return;
	out[0] = e->eax;
	out[1] = e->ebx;
	out[2] = e->ecx;
	out[3] = e->edx;
}

uint32_t *cpuid_reg(struct cpuid_entry *e, enum cpuid_reg reg)
{
	switch (reg) {
	case CPUID_EAX:
		return &e->eax;
	case CPUID_EBX:
		return &e->ebx;
	case CPUID_ECX:
		return &e->ecx;
	case CPUID_EDX:
		return &e->edx;
	}
	return &e->eax;
}

static unsigned order_base2(unsigned n)
{
	unsigned shift = 0;

	while ((1u << shift) < n)
		shift++;
	return shift;
}

static void cpuid_set_ext_topology(struct cpuid_table *c, uint32_t leaf, unsigned cpu,
				   unsigned ncpus)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct cpuid_entry *e = &c->entries[i];

		if (e->function != leaf)
			continue;
		e->edx = cpu; /* x2APIC ID */
		switch (e->index) {
		case 0: /* SMT level: one thread per core */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | 0;
			break;
		case 1: /* core level */
			e->eax = order_base2(ncpus);
			e->ebx = ncpus;
			e->ecx = (2u << 8) | 1;
			break;
		default:
			e->eax = 0;
			e->ebx = 0;
			e->ecx = e->index;
			break;
		}
	}
}

void cpuid_set_topology(struct cpuid_table *c, unsigned cpu, unsigned ncpus)
{
	struct cpuid_entry *e;

	e = cpuid_find(c, 1, 0);
	if (e) {
		e->ebx &= 0x0000ffffu;
		e->ebx |= (uint32_t)cpu << 24;
		e->ebx |= (uint32_t)(ncpus & 0xff) << 16;
		if (ncpus > 1)
			e->edx |= 1u << 28; /* HTT: EBX[23:16] is valid */
		e->ecx |= 1u << 31;	    /* running under a hypervisor */
	}
	for (unsigned i = 0; i < c->nent; i++) {
		struct cpuid_entry *d = &c->entries[i];
		unsigned level;

		if (d->function != 4)
			continue;
		level = (d->eax >> 5) & 7;
		d->eax &= 0x3fffu;
		d->eax |= (uint32_t)((ncpus - 1) & 0x3f) << 26;
		if (level >= 3)
			d->eax |= (uint32_t)((ncpus - 1) & 0xfff) << 14;
	}
	cpuid_set_ext_topology(c, 0xb, cpu, ncpus);
	cpuid_set_ext_topology(c, 0x1f, cpu, ncpus);
	e = cpuid_find(c, 0x80000008, 0);
	if (e) {
		e->ecx &= ~0xffu;
		e->ecx |= (ncpus - 1) & 0xff;
	}
}
