// SPDX-License-Identifier: Apache-2.0
#include "arch/x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "base/util.h"

struct kvm_cpuid2 *cpuid_alloc(unsigned nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	if (c)
		c->nent = nent;
	return c;
}

struct kvm_cpuid2 *cpuid_dup(const struct kvm_cpuid2 *c)
{
	struct kvm_cpuid2 *d = cpuid_alloc(c->nent);

	if (d)
		memcpy(d->entries, c->entries, c->nent * sizeof(c->entries[0]));
	return d;
}

int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *c = cpuid_alloc(CPUID_MAX_ENTRIES);

	if (!c)
		return -ENOMEM;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int err = -errno;

		free(c);
		return err;
	}
	*out = c;
	return 0;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg reg)
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

static void cpuid_set_ext_topology(struct kvm_cpuid2 *c, uint32_t leaf, unsigned cpu,
				   unsigned ncpus)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

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

void cpuid_set_topology(struct kvm_cpuid2 *c, unsigned cpu, unsigned ncpus)
{
	struct kvm_cpuid_entry2 *e;

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
		struct kvm_cpuid_entry2 *d = &c->entries[i];
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
