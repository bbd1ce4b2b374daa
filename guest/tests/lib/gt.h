/* SPDX-License-Identifier: MIT */
/* gt.h - mini library for osprey's freestanding test guests. */
#ifndef GT_H
#define GT_H

#include <stddef.h>
#include <stdint.h>

#include "osprey_pv.h"
#include "pvh.h"

#define GT_NORETURN __attribute__((noreturn))

/* Each guest defines this; start.S calls it with EBX from the PVH entry.
 * Returning powers the guest off. */
void test_main(const struct osprey_hvm_start_info *si);

/* ---- port and MMIO access ----------------------------------------------- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t mmio_read32(uint32_t paddr)
{
	return *(volatile uint32_t *)(uintptr_t)paddr;
}
static inline void mmio_write32(uint32_t paddr, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)paddr = v;
}
/* Pointer to guest-physical memory (identity, paging off; only the low
 * 4 GiB are reachable).  The empty asm hides the constant from gcc, which
 * otherwise warns about dereferencing small addresses (-Warray-bounds). */
static inline void *phys_ptr(uint64_t paddr)
{
	uintptr_t p = (uintptr_t)paddr;

	__asm__("" : "+r"(p));
	return (void *)p;
}

/* ---- serial console (COM1, polled) ------------------------------------- */
void serial_putc(char c);
void print(const char *s);
void print_n(const char *s, size_t max);     /* stops at NUL or max */
void print_hex(uint32_t v, unsigned digits); /* "0x" + digits hex digits */
void print_hex64(uint64_t v);                /* "0x" + 16 hex digits */
void print_dec(uint32_t v);
void print_dec64(uint64_t v);

/* ---- osprey PV interface -------------------------------------------------- */
GT_NORETURN void poweroff(void);  /* PV port; halts if the VMM ignores it */
GT_NORETURN void halt_forever(void);
void boot_marker_mmio(uint32_t value);
void boot_marker_port(void);

/* PVH start_info sanity: non-NULL, below 4 GiB and with the right magic. */
int start_info_ok(const struct osprey_hvm_start_info *si);

/* gcc may emit calls to these. */
/* Command-line words: blank test, a number (decimal or 0x hex) at *p
 * (advances *p), and what follows key if the word at w starts with it. */
int gt_is_space(char c);
uint64_t gt_parse_num(const char **p);
const char *gt_word_value(const char *w, const char *key);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif /* GT_H */
