/* SPDX-License-Identifier: MIT */
/*
 * gt64.c - 64-bit test-guest support: IDT, TSS, exception reports,
 * triple-fault failure and the kvmclock TSC frequency.  Kernel mode
 * (emulated on kvm_pvm hosts): keep it short.
 */
#include "gt64.h"

struct idt_gate64 {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

/* The 64-bit TSS followed by an I/O permission bitmap that allows every
 * port (0 bits) and the all-ones byte that must end it. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	uint8_t iomap[65536 / 8];
	uint8_t iomap_end;
} __attribute__((packed));

_Static_assert(offsetof(struct tss64, iomap) == 104, "TSS layout");

extern const uint64_t gt64_trap_stubs[32];
extern uint64_t gt64_gdt_tss[2];
extern char gt64_trap_stack_top[];

static struct idt_gate64 idt[GT64_IDT_VECTORS] __attribute__((aligned(16)));
/* In .data (assembled, not computed: kernel mode is emulated on kvm_pvm). */
static struct tss64 tss __attribute__((aligned(16))) = {
	.iomap_base = offsetof(struct tss64, iomap),
	.iomap_end = 0xff,
};

static void set_gate(unsigned v, uint64_t handler, unsigned dpl)
{
	idt[v].offset_lo = (uint16_t)handler;
	idt[v].selector = GT64_KERNEL_CS;
	idt[v].ist = 0;
	idt[v].type_attr = (uint8_t)(0x8e | (dpl << 5)); /* present, interrupt gate */
	idt[v].offset_mid = (uint16_t)(handler >> 16);
	idt[v].offset_hi = (uint32_t)(handler >> 32);
}

void gt64_cpu_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	tss.rsp[0] = (uint64_t)(uintptr_t)gt64_trap_stack_top;
	/*
	 * The I/O bitmap lets user mode use every port even with IOPL 0. On
	 * kvm_pvm user mode always runs with IOPL 0 whatever RFLAGS asks
	 * for; there the access faults into KVM, which checks this bitmap and
	 * emulates it (about 60-120 us per access, 5-7 times the cost of
	 * port I/O from kernel mode).
	 */
	/* 64-bit available TSS (type 9), present, DPL 0. */
	gt64_gdt_tss[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
			  ((limit >> 16) << 48) | (((base >> 24) & 0xff) << 56);
	gt64_gdt_tss[1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(GT64_TSS_SEL) : "memory");

	for (unsigned v = 0; v < GT64_IDT_VECTORS; v++)
		set_gate(v, gt64_trap_stubs[v], 0);
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

static const char *const vec_names[32] = {
	[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF", [5] = "#BR",
	[6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS",
	[13] = "#GP", [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
};

void gt64_trap(struct gt64_frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	print("trap: vector ");
	print_dec((uint32_t)f->vector);
	if (f->vector < 32 && vec_names[f->vector]) {
		print(" ");
		print(vec_names[f->vector]);
	}
	print(f->cs & 3 ? " in user mode" : " in kernel mode");
	print(" error ");
	print_hex((uint32_t)f->error, 8);
	print(" rip ");
	print_hex64(f->rip);
	print(" rsp ");
	print_hex64(f->rsp);
	print(" cs ");
	print_hex((uint32_t)f->cs, 4);
	print(" rflags ");
	print_hex((uint32_t)f->rflags, 8);
	if (f->vector == 14) {
		print(" cr2 ");
		print_hex64(cr2);
	}
	print("\n");
	gt64_fail();
}

void gt64_fail(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = { 0, 0 };

	/* #UD with an empty IDT: #GP, #DF, shutdown. */
	__asm__ volatile("cli; lidt %0; ud2" : : "m"(none));
	halt_forever();
}

/* struct pvclock_vcpu_time_info (KVM's kvmclock ABI). */
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 3

uint64_t gt64_kvmclock_tsc_khz(void)
{
	static volatile struct pvclock pvc __attribute__((aligned(64)));
	uint32_t a, b, c, d, mul;
	int shift;
	uint64_t khz;

	cpuid(0x40000000, &a, &b, &c, &d);
	/* "KVMKVMKVM\0\0\0" */
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d || a < 0x40000001)
		return 0;
	cpuid(0x40000001, &a, &b, &c, &d);
	if (!(a & (1U << KVM_FEATURE_CLOCKSOURCE2)))
		return 0;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pvc | 1);
	for (unsigned i = 0; i < 1000 && (pvc.version == 0 || (pvc.version & 1)); i++)
		barrier();
	mul = pvc.tsc_to_system_mul;
	shift = pvc.tsc_shift;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	if (mul == 0)
		return 0;
	/* ns = ((tsc << shift) * mul) >> 32, so kHz = 1e6 * 2^32 / mul / 2^shift. */
	khz = (1000000ULL << 32) / mul;
	return shift >= 0 ? khz >> shift : khz << -shift;
}
