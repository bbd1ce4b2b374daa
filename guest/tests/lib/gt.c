/* SPDX-License-Identifier: MIT */
/*
 * gt.c - mini library for osprey's freestanding test guests.
 *
 * Everything here runs in guest kernel mode, which on kvm_pvm hosts is
 * executed by KVM's instruction emulator (~1 us per instruction, ~10 us per
 * port access), so keep it short and simple.
 */
#include "gt.h"

#define UART_THR 0 /* transmit holding register (write) */
#define UART_LSR 5 /* line status register */
#define UART_LSR_THRE 0x20

void serial_putc(char c)
{
	/* Bounded: a missing UART reads 0xff, which has THRE set anyway. */
	for (unsigned i = 0; i < 1000; i++) {
		if (inb(OSPREY_COM1_PORT + UART_LSR) & UART_LSR_THRE)
			break;
	}
	outb(OSPREY_COM1_PORT + UART_THR, (uint8_t)c);
}

void print(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

void print_n(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++)
		serial_putc(s[i]);
}

void print_hex(uint32_t v, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";

	if (digits > 8)
		digits = 8;
	serial_putc('0');
	serial_putc('x');
	while (digits--)
		serial_putc(hex[(v >> (digits * 4)) & 0xf]);
}

void print_hex64(uint64_t v)
{
	print_hex((uint32_t)(v >> 32), 8);
	/* second half without another "0x" */
	for (int shift = 28; shift >= 0; shift -= 4)
		serial_putc("0123456789abcdef"[((uint32_t)v >> shift) & 0xf]);
}

void print_dec(uint32_t v)
{
	char buf[10];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		serial_putc(buf[--n]);
}

/* 64-by-10 division with 32-bit divl only: there is no libgcc (__udivdi3)
 * for -m32 -nostdlib builds. */
static uint32_t divmod64_10(uint64_t *n)
{
	uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n;
	uint32_t qhi = hi / 10, rem = hi % 10, qlo;

	__asm__("divl %4" : "=a"(qlo), "=d"(rem) : "a"(lo), "d"(rem), "r"(10U));
	*n = ((uint64_t)qhi << 32) | qlo;
	return rem;
}

void print_dec64(uint64_t v)
{
	char buf[20];
	int n = 0;

	do
		buf[n++] = (char)('0' + divmod64_10(&v));
	while (v);
	while (n)
		serial_putc(buf[--n]);
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void poweroff(void)
{
	outl(OSPREY_PV_PORT, OSPREY_PV_POWEROFF);
	halt_forever();
}

void boot_marker_mmio(uint32_t value)
{
	mmio_write32((uint32_t)OSPREY_BOOT_MARKER_MMIO_BASE, value);
}

void boot_marker_port(void)
{
	outl(OSPREY_PV_PORT, OSPREY_PV_BOOT_MARKER);
}

int start_info_ok(const struct osprey_hvm_start_info *si)
{
	return si != NULL && si->magic == OSPREY_HVM_START_MAGIC;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

/* ---- command-line words --------------------------------------------------- */
int gt_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Parses a number (decimal or 0x hex) at *p; advances *p. */
uint64_t gt_parse_num(const char **p)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		for (;; s++) {
			unsigned d;

			if (*s >= '0' && *s <= '9')
				d = (unsigned)(*s - '0');
			else if (*s >= 'a' && *s <= 'f')
				d = (unsigned)(*s - 'a' + 10);
			else if (*s >= 'A' && *s <= 'F')
				d = (unsigned)(*s - 'A' + 10);
			else
				break;
			v = v * 16 + d;
		}
	} else {
		for (; *s >= '0' && *s <= '9'; s++)
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	return v;
}

/* If the word at w starts with key, returns what follows it. */
const char *gt_word_value(const char *w, const char *key)
{
	while (*key)
		if (*w++ != *key++)
			return NULL;
	return w;
}
