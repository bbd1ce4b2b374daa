// SPDX-License-Identifier: Apache-2.0
/*
 * The software CPU on arbitrary guest code. Byte 0 chooses the set-up:
 *
 *   bits 0-1  mode: 0 64-bit user (CPL3), 1 64-bit kernel (CPL0),
 *             2 32-bit protected mode (flat, no paging), 3 real mode
 *   bit 2     exception stubs IRET instead of HLT (faults loop on)
 *   bit 3     RFLAGS.IF set, and an interrupt is posted before the run
 *   bit 4     an NMI is posted before the run
 *   bit 5     64-bit modes: the code page is not writable by the guest;
 *             32-bit mode: 32-bit paging (4 KiB pages); real mode: the
 *             code starts 16 bytes before the end of RAM (CS = 0x3fff)
 *   bit 6     64-bit modes: 2 MiB pages instead of 4 KiB ones;
 *             32-bit mode: PAE paging (2 MiB pages)
 *   bit 7     RFLAGS.TF set
 *
 * The rest is copied to guest-physical 0x10000, where execution starts;
 * RAM from there on is otherwise filled with HLT (0xf4).
 * The machine is a 256 KiB guest_mem with GDT, TSS, IDTs and page tables
 * the guest may rewrite, and osprey's interrupt controllers (irqchip/: a
 * LAPIC at 0xfee00000 and its x2APIC MSRs, the IOAPIC at 0xfec00000, the
 * PIC and the PIT ports) on a clock that advances between runs; other
 * ports, MMIO addresses and MSRs are accepted. The 64-bit page tables
 * also map 3-4 GiB (the MMIO hole) with 2 MiB pages.
 * Each run is bounded (SOFT_FUZZ_BUDGET instructions): a crash, a hang or
 * a sanitizer report is a bug of the soft CPU.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accel/soft/soft_cpu.h"
#include "irqchip/irqchip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SOFT_FUZZ_BUDGET 10000
#define RAM_SIZE 0x40000ULL
#define GPA_GDT 0x1000ULL
#define GPA_IDT64 0x2000ULL
#define GPA_TSS 0x3000ULL
#define GPA_STUBS 0x4000ULL
#define GPA_IDT32 0x5000ULL
#define KSTACK_TOP 0x7000ULL
#define GPA_PML4 0x8000ULL
#define GPA_PDPT 0x9000ULL
#define GPA_PD 0xa000ULL
#define GPA_PT 0xb000ULL
#define GPA_PD_HOLE 0xc000ULL /* 64-bit: 3-4 GiB; 32-bit PAE: the PDPT */
#define GPA_PAE_PD 0xd000ULL  /* 32-bit PAE: PDs for 0-1 GiB and 3-4 GiB */
#define GPA_CODE 0x10000ULL
#define USTACK_TOP 0x3f000ULL

static struct guest_mem mem;
static unsigned irq_vector;
static struct irqchip ic;
static struct soft_cpu *cur_cpu;
static uint64_t fake_now; /* the irqchip's clock: deterministic */

static uint64_t fz_now(void *opaque)
{
	(void)opaque;
	return fake_now;
}

static void fz_cpu_event(void *opaque, unsigned cpu, enum lapic_event ev, uint8_t vector)
{
	(void)opaque;
	(void)vector;
	if (cpu != 0 || !cur_cpu)
		return;
	switch (ev) {
	case LAPIC_EV_IRQ:
	case LAPIC_EV_EXTINT:
		soft_cpu_post(cur_cpu, SOFT_EVENT_IRQ);
		break;
	case LAPIC_EV_NMI:
		soft_cpu_post(cur_cpu, SOFT_EVENT_NMI);
		break;
	case LAPIC_EV_INIT:
		soft_cpu_post(cur_cpu, SOFT_EVENT_INIT);
		break;
	default:
		break;
	}
}

static void fz_pio(void *opaque, uint16_t port, bool is_write, uint8_t *d, unsigned len)
{
	(void)opaque;
	if (irqchip_pio(&ic, port, is_write, d, len))
		return;
	if (!is_write)
		memset(d, 0xff, len);
}

static void fz_mmio(void *opaque, uint64_t gpa, bool is_write, uint8_t *d, unsigned len)
{
	(void)opaque;
	if (irqchip_mmio(&ic, 0, gpa, is_write, d, len))
		return;
	if (!is_write)
		memset(d, (int)(gpa & 0xff), len);
}

static void fz_cpuid(void *opaque, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)opaque;
	out[0] = leaf == 0 ? 0xd : leaf ^ subleaf;
	out[1] = 0x756e6547;
	out[2] = 0x6c65746e;
	out[3] = leaf == 1 ? 0x078bfbff : 0x49656e69;
}

static bool fz_rdmsr(void *opaque, uint32_t index, uint64_t *value)
{
	(void)opaque;
	if (irqchip_is_lapic_msr(index))
		return lapic_msr_read(&ic.lapic[0], index, value);
	*value = (uint64_t)index * 0x9e3779b97f4a7c15ULL;
	return true;
}

static bool fz_wrmsr(void *opaque, uint32_t index, uint64_t value)
{
	(void)opaque;
	if (irqchip_is_lapic_msr(index))
		return lapic_msr_write(&ic.lapic[0], index, value);
	return true;
}

static int fz_irq_ack(void *opaque)
{
	(void)opaque;
	if (!irq_vector)
		return irqchip_irq_ack(&ic, 0);
	irq_vector = 0;
	return 0x20;
}

static void fz_tpr(void *opaque, uint8_t tpr)
{
	(void)opaque;
	lapic_set_tpr(&ic.lapic[0], (uint8_t)((tpr & 0xf) << 4));
}

static void put64(uint64_t gpa, uint64_t v)
{
	void *p = guest_mem_ptr(&mem, gpa, 8);

	if (p)
		memcpy(p, &v, 8);
}

static void build_tables(uint8_t mode)
{
	uint64_t tss_lo = 0x67 | (GPA_TSS & 0xffffff) << 16 | 0x8bULL << 40;
	uint64_t code_flags = (mode & 0x20) ? 0x5 : 0x7; /* P, U, W unless bit 5 */

	put64(GPA_GDT + 0x08, 0x00af9b000000ffffULL); /* 64-bit kernel code */
	put64(GPA_GDT + 0x10, 0x00cf93000000ffffULL); /* kernel data */
	put64(GPA_GDT + 0x18, 0x00cff3000000ffffULL); /* user data */
	put64(GPA_GDT + 0x20, 0x00affb000000ffffULL); /* 64-bit user code */
	put64(GPA_GDT + 0x28, tss_lo);
	put64(GPA_GDT + 0x30, 0);
	put64(GPA_GDT + 0x38, 0x00cf9b000000ffffULL); /* 32-bit code */
	put64(GPA_TSS + 4, KSTACK_TOP);
	put64(GPA_TSS + 0x24, KSTACK_TOP - 0x800); /* IST1 */
	put64(GPA_TSS + 0x60, 0x0068000000000000ULL);

	memset(guest_mem_ptr(&mem, GPA_STUBS, 4096), (mode & 4) ? 0x90 : 0xf4, 4096);
	for (uint64_t v = 0; v < 256; v++) {
		uint64_t h = GPA_STUBS + 16 * v;
		uint8_t *stub = guest_mem_ptr(&mem, h, 16);

		if (mode & 4) { /* drop the error code where there is one, then IRET */
			static const uint8_t stub64[] = { 0x48, 0x83, 0xc4, 0x08, 0x48, 0xcf };
			static const uint8_t stub32[] = { 0x83, 0xc4, 0x04, 0xcf };
			bool err = v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;

			if ((mode & 3) == 2)
				memcpy(stub, stub32 + (err ? 0 : 3), err ? 4 : 1);
			else
				memcpy(stub, stub64 + (err ? 0 : 4), err ? 6 : 2);
		}
		put64(GPA_IDT64 + 16 * v,
		      (h & 0xffff) | 0x08ULL << 16 | (v == 2 ? 1ULL : 0) << 32 |
			      (v >= 0x20 || v == 3 ? 0xeeULL : 0x8eULL) << 40 | ((h >> 16) & 0xffff) << 48);
		put64(GPA_IDT64 + 16 * v + 8, h >> 32);
		put64(GPA_IDT32 + 8 * v,
		      (h & 0xffff) | 0x38ULL << 16 | 0x8eULL << 40 | ((h >> 16) & 0xffff) << 48);
	}
	/* Identity map of the first 2 MiB (RAM is 256 KiB: the rest is MMIO). */
	put64(GPA_PML4, GPA_PDPT | 7);
	put64(GPA_PDPT, GPA_PD | 7);
	if (mode & 0x40) {
		put64(GPA_PD, 0x87);
	} else {
		put64(GPA_PD, GPA_PT | 7);
		for (uint64_t a = 0; a < 0x200000; a += 4096)
			put64(GPA_PT + 8 * (a >> 12), a | 7);
		for (uint64_t a = GPA_CODE; a < GPA_CODE + 0x10000; a += 4096)
			put64(GPA_PT + 8 * (a >> 12), a | code_flags);
		put64(GPA_PT, 0); /* page 0 not present */
	}
	/* 3-4 GiB (LAPIC, IOAPIC, nothing else), 2 MiB pages. */
	put64(GPA_PDPT + 8 * 3, GPA_PD_HOLE | 7);
	for (uint64_t i = 0; i < 512; i++)
		put64(GPA_PD_HOLE + 8 * i, (0xc0000000ULL + (i << 21)) | 0x87);
}

/* 32-bit paging: 4 KiB pages for the first 4 MiB, 4 MiB pages above (PSE). */
static void build_tables32(void)
{
	uint32_t *pd = guest_mem_ptr(&mem, GPA_PML4, 4096);
	uint32_t *pt = guest_mem_ptr(&mem, GPA_PT, 4096);

	for (uint32_t i = 0; i < 1024; i++) {
		pt[i] = (i << 12) | 7;
		pd[i] = i ? ((i << 22) | 0x87) : (uint32_t)(GPA_PT | 7);
	}
	pt[0] = 0; /* page 0 not present */
}

/* PAE paging, 2 MiB pages: 0-1 GiB and 3-4 GiB. */
static void build_tables_pae(void)
{
	put64(GPA_PD_HOLE, GPA_PAE_PD | 1);
	put64(GPA_PD_HOLE + 8, 0);
	put64(GPA_PD_HOLE + 16, 0);
	put64(GPA_PD_HOLE + 24, (GPA_PAE_PD + 0x1000) | 1);
	for (uint64_t i = 0; i < 512; i++) {
		put64(GPA_PAE_PD + 8 * i, (i << 21) | 0x87);
		put64(GPA_PAE_PD + 0x1000 + 8 * i, (0xc0000000ULL + (i << 21)) | 0x87);
	}
}

static struct x86_segment flat(uint16_t sel, uint8_t type, uint8_t dpl, uint8_t l, uint8_t db)
{
	struct x86_segment s = {
		.limit = 0xffffffff, .selector = sel, .type = type, .s = 1, .dpl = dpl,
		.present = 1, .l = l, .db = db, .g = 1,
	};
	return s;
}

static void set_state(struct soft_cpu *cpu, uint8_t mode)
{
	struct x86_cpu_state *st = soft_cpu_state(cpu);
	unsigned m = mode & 3;

	/* Everything from scratch, not relying on the reset state. */
	memset(st, 0, sizeof(*st));
	st->mp_state = X86_MP_RUNNABLE;
	st->cr0 = 0x60000010;
	st->dr[6] = 0xffff0ff0;
	st->dr[7] = 0x400;
	st->msr.apic_base = 0xfee00900;
	st->msr.pat = 0x0007040600070406ULL;
	st->fpu.fcw = 0x37f;
	st->fpu.mxcsr = 0x1f80;
	st->xcr0 = 1;
	st->rflags = 0x2 | ((mode & 8) ? 0x200 : 0) | ((mode & 0x80) ? 0x100 : 0);
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		st->gpr[i] = 0x1000 * i + 0x123;
	if (m == 3) {
		/* Real mode: CS = 0x1000 (base 0x10000), IP 0, IVT at 0. */
		for (unsigned i = 0; i < 6; i++)
			st->seg[i] = (struct x86_segment){ .base = 0, .limit = 0xffff, .type = 3,
							   .s = 1, .present = 1 };
		st->seg[X86_CS].selector = 0x1000;
		st->seg[X86_CS].base = GPA_CODE;
		if (mode & 0x20) {
			/* 16 bytes before the end of RAM: blocks and instructions run into MMIO. */
			st->seg[X86_CS].selector = (uint16_t)((RAM_SIZE - 16) >> 4);
			st->seg[X86_CS].base = RAM_SIZE - 16;
		}
		st->seg[X86_CS].type = 0xb;
		st->gpr[X86_RSP] = 0xfff0;
		st->rip = 0;
		st->idt = (struct x86_dtable){ .base = 0, .limit = 0x3ff };
		soft_cpu_state_changed(cpu);
		return;
	}
	st->gdt = (struct x86_dtable){ .base = GPA_GDT, .limit = 0x3f };
	st->seg[X86_TR] = (struct x86_segment){
		.base = GPA_TSS, .limit = 0x67, .selector = 0x28, .type = 0xb, .present = 1,
	};
	st->seg[X86_LDTR] = (struct x86_segment){ .unusable = 1 };
	st->rip = GPA_CODE;
	if (m == 2) {
		st->cr0 = 0x11; /* PE ET */
		st->seg[X86_CS] = flat(0x38, 0xb, 0, 0, 1);
		for (unsigned i = 0; i < 6; i++)
			if (i != X86_CS)
				st->seg[i] = flat(0x10, 0x3, 0, 0, 1);
		st->idt = (struct x86_dtable){ .base = GPA_IDT32, .limit = 0x7ff };
		st->gpr[X86_RSP] = KSTACK_TOP - 0x100;
		if (mode & 0x40) {
			build_tables_pae();
			st->cr3 = GPA_PD_HOLE;
			st->cr4 = 0x20; /* PAE */
			st->cr0 = 0x80010011; /* PG WP PE ET */
		} else if (mode & 0x20) {
			build_tables32();
			st->cr3 = GPA_PML4;
			st->cr4 = 0x10; /* PSE */
			st->cr0 = 0x80010011;
		}
		soft_cpu_state_changed(cpu);
		return;
	}
	st->cr0 = 0x80050033;
	st->cr3 = GPA_PML4;
	st->cr4 = 0x6a0; /* OSXMMEXCPT OSFXSR PGE PAE */
	st->efer = 0xd01; /* NXE LMA LME SCE */
	st->xcr0 = 3;
	st->idt = (struct x86_dtable){ .base = GPA_IDT64, .limit = 0xfff };
	st->msr.lstar = GPA_CODE + 0x800;
	st->msr.star = (0x08ULL << 32) | (0x13ULL << 48);
	st->msr.sfmask = 0x700;
	if (m == 0) {
		st->seg[X86_CS] = flat(0x23, 0xb, 3, 1, 0);
		for (unsigned i = 0; i < 6; i++)
			if (i != X86_CS)
				st->seg[i] = flat(0x1b, 0x3, 3, 0, 1);
		st->gpr[X86_RSP] = USTACK_TOP;
	} else {
		st->seg[X86_CS] = flat(0x08, 0xb, 0, 1, 0);
		for (unsigned i = 0; i < 6; i++)
			if (i != X86_CS)
				st->seg[i] = flat(0x10, 0x3, 0, 0, 1);
		st->gpr[X86_RSP] = KSTACK_TOP - 0x100;
	}
	soft_cpu_state_changed(cpu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct irqchip_ops iops = { .now_ns = fz_now, .cpu_event = fz_cpu_event };
	const struct soft_env env = {
		.mem = &mem, .pio = fz_pio, .mmio = fz_mmio, .cpuid = fz_cpuid,
		.rdmsr = fz_rdmsr, .wrmsr = fz_wrmsr, .irq_ack = fz_irq_ack, .tpr_write = fz_tpr,
	};
	struct soft_cpu *cpu;
	uint8_t mode;
	size_t n;

	if (size == 0)
		return 0;
	if (!mem.mapping && guest_mem_init(&mem, RAM_SIZE))
		abort();
	mode = data[0];
	n = size - 1;
	if (n > 0x10000)
		n = 0x10000;
	/* Tables zeroed; everything else HLT, so runaway code stops soon. */
	memset(mem.mapping, 0, GPA_CODE);
	memset(mem.mapping + GPA_CODE, 0xf4, RAM_SIZE - GPA_CODE);
	build_tables(mode);
	memcpy(guest_mem_ptr(&mem, GPA_CODE, 0x10000), data + 1, n);
	if ((mode & 0x23) == 0x23) /* real mode at the end of RAM */
		memcpy(guest_mem_ptr(&mem, RAM_SIZE - 16, 16), data + 1, n < 16 ? n : 16);
	soft_code_invalidate(0, RAM_SIZE);
	/* Fresh interrupt controllers too (virtual wire: the PIC reaches the CPU). */
	fake_now = 1000000000ULL;
	if (irqchip_init(&ic, 1, true, &iops))
		abort();

	/*
	 * A fresh CPU per input, so that a crash reproduces from its input
	 * alone (a reused one could carry a posted event or cached code).
	 */
	cpu = soft_cpu_new(&env, 0);
	if (!cpu)
		abort();
	cur_cpu = cpu;
	set_state(cpu, mode);
	irq_vector = (mode & 8) ? 0x20 : 0;
	if (mode & 8)
		soft_cpu_post(cpu, SOFT_EVENT_IRQ);
	if (mode & 0x10)
		soft_cpu_post(cpu, SOFT_EVENT_NMI);
	/* HLT ends a run: go on a few times with an interrupt pending. */
	for (int i = 0; i < 3; i++) {
		enum soft_exit e = soft_cpu_run_bounded(cpu, SOFT_FUZZ_BUDGET / 3);

		if (e != SOFT_EXIT_HLT)
			break;
		irq_vector = 0x20;
		soft_cpu_post(cpu, SOFT_EVENT_IRQ);
		/* Time passes: the LAPIC timer and the PIT fire what is due. */
		fake_now += 1000000;
		irqchip_advance(&ic, fake_now);
	}
	cur_cpu = NULL;
	soft_cpu_free(cpu);
	irqchip_destroy(&ic);
	return 0;
}
