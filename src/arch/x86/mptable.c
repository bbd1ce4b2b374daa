// SPDX-License-Identifier: Apache-2.0
#include "arch/x86/mptable.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/layout.h"
#include "base/util.h"

struct mpf_intel {
	char signature[4];
	uint32_t physptr;
	uint8_t length;
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_INTSRC = 3,
	MP_LINTSRC = 4,
	MP_IRQ_INT = 0,
	MP_IRQ_NMI = 1,
	MP_IRQ_EXTINT = 3,
	CPU_ENABLED = 1,
	CPU_BOOTPROCESSOR = 2,
	MPC_APIC_USABLE = 1,
	APIC_VERSION = 0x14,
	IOAPIC_VERSION = 0x11,
};

uint64_t mptable_size(unsigned ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (MPTABLE_IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
}

int mptable_write(const struct guest_mem *mem, gpa_t addr, unsigned ncpus,
		  uint32_t cpu_signature, uint32_t cpu_features)
{
	uint64_t size = mptable_size(ncpus);
	uint8_t *base, *p;
	struct mpf_intel *mpf;
	struct mpc_table *mpc;
	uint8_t ioapic_id = (uint8_t)ncpus;
	uint16_t entries = 0;

	if (ncpus == 0 || ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	base = guest_mem_ptr(mem, addr, size);
	if (!base)
		return -EFAULT;
	memset(base, 0, size);

	mpf = (struct mpf_intel *)base;
	mpc = (struct mpc_table *)(base + sizeof(*mpf));
	p = (uint8_t *)(mpc + 1);

	for (unsigned i = 0; i < ncpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = (uint8_t)i,
			.apicver = APIC_VERSION,
			.cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0),
			.cpufeature = cpu_signature,
			.featureflag = cpu_features,
		};
		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
		entries++;
	}
	{
		struct mpc_bus bus = { .type = MP_BUS, .busid = 0 };

		memcpy(bus.bustype, "ISA   ", 6);
		memcpy(p, &bus, sizeof(bus));
		p += sizeof(bus);
		entries++;
	}
	{
		struct mpc_ioapic io = {
			.type = MP_IOAPIC,
			.apicid = ioapic_id,
			.apicver = IOAPIC_VERSION,
			.flags = MPC_APIC_USABLE,
			.apicaddr = (uint32_t)X86_IOAPIC_ADDR,
		};
		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		entries++;
	}
	/* ISA IRQ n -> IO-APIC pin n, matching KVM's default GSI routing. */
	for (unsigned pin = 0; pin < MPTABLE_IOAPIC_PINS; pin++) {
		struct mpc_intsrc src = {
			.type = MP_INTSRC,
			.irqtype = MP_IRQ_INT,
			.irqflag = 0, /* conforming polarity and trigger (ISA: edge, high) */
			.srcbus = 0,
			.srcbusirq = (uint8_t)pin,
			.dstapic = ioapic_id,
			.dstirq = (uint8_t)pin,
		};
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
		entries++;
	}
	{
		struct mpc_intsrc lint[2] = {
			{ .type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT, .dstapic = 0xff, .dstirq = 0 },
			{ .type = MP_LINTSRC, .irqtype = MP_IRQ_NMI, .dstapic = 0xff, .dstirq = 1 },
		};
		memcpy(p, lint, sizeof(lint));
		p += sizeof(lint);
		entries += 2;
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "OSPREY  ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->lapic = (uint32_t)X86_LAPIC_ADDR;
	mpc->oemcount = entries;
	mpc->checksum = (uint8_t)(-checksum8(mpc, mpc->length));

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(addr + sizeof(*mpf));
	mpf->length = 1; /* in 16-byte units */
	mpf->specification = 4;
	mpf->checksum = (uint8_t)(-checksum8(mpf, sizeof(*mpf)));
	return 0;
}
