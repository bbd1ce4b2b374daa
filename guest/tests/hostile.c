/* SPDX-License-Identifier: MIT */
/*
 * hostile - a guest that attacks the machine: kvmclock areas that are
 * misaligned, MMIO or outside RAM; LAPIC and IOAPIC registers at odd
 * sizes, offsets and page-crossing addresses; IPIs to APIC IDs that do
 * not exist; IOAPIC entries with illegal vectors; a PIT at count 1 (an
 * interrupt storm with interrupts off); string copies across the end of
 * RAM into the MMIO hole. It prints "hostile: survived" and powers off.
 *
 * hostile.mode= on the command line picks a guest that never ends, for a
 * test that osprey stays pausable and killable (SIGTERM) and idle when it
 * should be:
 *   1  cli; hlt forever (osprey must sleep, not spin)
 *   2  rep stosb with ECX = 0xffffffff into the MMIO hole (one MMIO
 *      access per byte, forever)
 *   3  jmp . with interrupts off
 *   4  a PIT at count 1 with IRQ 0 unmasked and interrupts off, then hlt
 *   5  the LAPIC timer periodic at count 1, unmasked, interrupts off, hlt
 */
#include "gt.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void mmio_write8(uint32_t a, uint8_t v)
{
	*(volatile uint8_t *)(uintptr_t)a = v;
}

static inline uint8_t mmio_read8(uint32_t a)
{
	return *(volatile uint8_t *)(uintptr_t)a;
}

static inline uint16_t mmio_read16(uint32_t a)
{
	return *(volatile uint16_t *)(uintptr_t)a;
}

static inline void mmio_write16(uint32_t a, uint16_t v)
{
	*(volatile uint16_t *)(uintptr_t)a = v;
}

static uint32_t mode_of(const struct osprey_hvm_start_info *si)
{
	const char *c, *v;

	if (!si->cmdline_paddr || si->cmdline_paddr >= (1ULL << 32))
		return 0;
	c = phys_ptr(si->cmdline_paddr);
	for (unsigned n = 0; *c && n < 4096;) {
		while (gt_is_space(*c))
			c++;
		if ((v = gt_word_value(c, "hostile.mode=")))
			return (uint32_t)gt_parse_num(&v);
		while (*c && !gt_is_space(*c)) {
			c++;
			n++;
		}
	}
	return 0;
}

/* End of the RAM entry that holds 1 MiB (where this guest runs). */
static uint32_t ram_end(const struct osprey_hvm_start_info *si)
{
	const struct osprey_hvm_memmap_table_entry *e;

	if (si->version < 1 || !si->memmap_paddr || si->memmap_paddr >= (1ULL << 32))
		return 0;
	e = phys_ptr(si->memmap_paddr);
	for (uint32_t i = 0; i < si->memmap_entries && i < 128; i++)
		if (e[i].type == OSPREY_HVM_MEMMAP_TYPE_RAM && e[i].addr <= 0x100000 &&
		    e[i].addr + e[i].size > 0x100000 && e[i].addr + e[i].size <= 0xc0000000ULL)
			return (uint32_t)(e[i].addr + e[i].size);
	return 0;
}

static void pit_count(uint16_t count)
{
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, (uint8_t)count);
	outb(0x40, (uint8_t)(count >> 8));
}

static void pic_unmask_irq0(void)
{
	outb(0x20, 0x11); /* ICW1 */
	outb(0x21, 0x20); /* vectors 0x20.. */
	outb(0x21, 0x04);
	outb(0x21, 0x01);
	outb(0x21, 0xfe); /* only IRQ 0 */
}

static void kvmclock_attacks(uint32_t end)
{
	static const uint32_t where[] = {
		0x2004, 0x2001, 0x2003, LAPIC, LAPIC + 0xff0, IOAPIC, 0xbffffff0, 0xfffffff0, 0xffffffe1,
	};

	for (unsigned i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)where[i] | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, where[i] + 2);
	}
	if (end) {
		/* straddling the end of RAM */
		wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(end - 16) | 1);
		wrmsr(MSR_KVM_WALL_CLOCK_NEW, end - 8);
	}
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0xffffffffffffffffULL);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, 0x0000ffffffffffffULL);
	print("hostile: kvmclock done\n");
}

static void lapic_attacks(void)
{
	volatile uint32_t sink = 0;

	/* odd sizes and offsets */
	mmio_write8(LAPIC + 0x301, 0xff);
	mmio_write8(LAPIC + 0x80, 0x10);
	mmio_write16(LAPIC + 0x3e2, 0xffff);
	sink += mmio_read8(LAPIC + 0x23);
	sink += mmio_read16(LAPIC + 0xffe);
	sink += mmio_read32(LAPIC + 0x3fd);
	/* across the end of the LAPIC page */
	sink += mmio_read32(LAPIC + 0xffe);
	sink += mmio_read32(LAPIC + 0xfff);
	*(volatile uint32_t *)(uintptr_t)(LAPIC + 0xffd) = 0xffffffff;
	/* IPIs to APIC IDs that do not exist */
	mmio_write32(LAPIC + 0x310, 0xfe000000u);
	mmio_write32(LAPIC + 0x300, 0x00004500u); /* INIT */
	mmio_write32(LAPIC + 0x300, 0x00004610u); /* SIPI */
	mmio_write32(LAPIC + 0x300, 0x00004400u); /* NMI */
	mmio_write32(LAPIC + 0x300, 0x00004030u); /* fixed */
	mmio_write32(LAPIC + 0x310, 0x07000000u);
	mmio_write32(LAPIC + 0x300, 0x00004830u); /* logical */
	/* illegal vectors: to self and to all others */
	mmio_write32(LAPIC + 0x300, 0x00044003u);
	mmio_write32(LAPIC + 0x300, 0x000c4003u);
	/* the LAPIC timer at count 1, divide 1, periodic, masked; then off */
	mmio_write32(LAPIC + 0x3e0, 0xb);
	mmio_write32(LAPIC + 0x320, 0x00030040u);
	mmio_write32(LAPIC + 0x380, 1);
	for (volatile int i = 0; i < 100000; i++)
		;
	mmio_write32(LAPIC + 0x380, 0);
	(void)sink;
	print("hostile: lapic done\n");
}

static void ioapic_attacks(void)
{
	volatile uint32_t sink = 0;

	for (uint32_t pin = 0; pin < 24; pin++) {
		mmio_write32(IOAPIC, 0x10 + 2 * pin);
		mmio_write32(IOAPIC + 0x10, pin & 15); /* vectors 0-15, unmasked */
		mmio_write32(IOAPIC, 0x11 + 2 * pin);
		mmio_write32(IOAPIC + 0x10, 0xff000000u); /* to APIC ID 255 */
	}
	mmio_write8(IOAPIC, 0xff);
	sink += mmio_read32(IOAPIC + 0x10);
	mmio_write8(IOAPIC + 3, 0x10);
	mmio_write16(IOAPIC + 0x12, 0xffff);
	sink += mmio_read16(IOAPIC + 0x13);
	sink += mmio_read32(IOAPIC + 0xffe);
	*(volatile uint32_t *)(uintptr_t)(IOAPIC + 0xfff) = 0;
	/* level-triggered with the illegal vector 3 */
	mmio_write32(IOAPIC, 0x10 + 2 * 4);
	mmio_write32(IOAPIC + 0x10, 0x8003);
	for (uint32_t pin = 0; pin < 24; pin++) {
		mmio_write32(IOAPIC, 0x10 + 2 * pin);
		mmio_write32(IOAPIC + 0x10, 0x10000); /* masked again */
	}
	(void)sink;
	print("hostile: ioapic done\n");
}

static void pit_storm(void)
{
	pic_unmask_irq0();
	pit_count(1);
	for (volatile int i = 0; i < 200000; i++)
		;
	pit_count(0); /* 65536 */
	outb(0x21, 0xff);
	print("hostile: pit storm done\n");
}

static void ram_end_attacks(uint32_t end)
{
	uint32_t src, dst, cnt;

	if (!end) {
		print("hostile: no ram end\n");
		return;
	}
	/* copy and store across the end of RAM into the hole */
	src = end - 32;
	dst = 0x200000;
	cnt = 64;
	__asm__ volatile("cld; rep movsb" : "+S"(src), "+D"(dst), "+c"(cnt) : : "memory");
	src = 0x200000;
	dst = end - 32;
	cnt = 64;
	__asm__ volatile("cld; rep movsb" : "+S"(src), "+D"(dst), "+c"(cnt) : : "memory");
	dst = end - 3;
	cnt = 4;
	__asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(cnt) : "a"(0x11223344u) : "memory");
	/* backwards across the end */
	dst = end + 8;
	cnt = 16;
	__asm__ volatile("std; rep stosb; cld" : "+D"(dst), "+c"(cnt) : "a"(0x55u) : "memory");
	/* an 8-byte access straddling RAM and the hole */
	*(volatile uint32_t *)(uintptr_t)(end - 2) = 0xdeadbeef;
	print("hostile: ram end done\n");
}

void test_main(const struct osprey_hvm_start_info *si)
{
	uint32_t mode = mode_of(si), end = ram_end(si);

	print("hostile: mode ");
	print_dec(mode);
	print(" ram end ");
	print_hex(end, 8);
	print("\n");
	switch (mode) {
	case 1:
		print("hostile: cli; hlt\n");
		__asm__ volatile("cli; 1: hlt; jmp 1b");
		break;
	case 2: {
		uint32_t dst = 0xd0000000u, cnt = 0xffffffffu;

		print("hostile: rep stosb into the hole\n");
		for (;;) {
			__asm__ volatile("cld; rep stosb" : "+D"(dst), "+c"(cnt) : "a"(0) : "memory");
			dst = 0xd0000000u;
			cnt = 0xffffffffu;
		}
	}
	case 3:
		print("hostile: jmp .\n");
		__asm__ volatile("cli; 1: jmp 1b");
		break;
	case 4:
		print("hostile: pit at count 1, hlt\n");
		pic_unmask_irq0();
		pit_count(1);
		__asm__ volatile("cli; 1: hlt; jmp 1b");
		break;
	case 5:
		print("hostile: lapic timer at count 1, hlt\n");
		__asm__ volatile("cli");
		mmio_write32(LAPIC + 0xf0, 0x1ff); /* software enable */
		mmio_write32(LAPIC + 0x3e0, 0xb);
		mmio_write32(LAPIC + 0x320, 0x00020040u);
		mmio_write32(LAPIC + 0x380, 1);
		__asm__ volatile("1: hlt; jmp 1b");
		break;
	default:
		break;
	}
	__asm__ volatile("cli");
	kvmclock_attacks(end);
	lapic_attacks();
	ioapic_attacks();
	pit_storm();
	ram_end_attacks(end);
	print("hostile: survived\n");
	poweroff();
}
