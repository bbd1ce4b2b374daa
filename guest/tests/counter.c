/* SPDX-License-Identifier: MIT */
/*
 * counter - a long, checkable computation for snapshot tests: counts from
 * 0 to STEPS-1, one step every TICK ms (TSC-paced, as ticker), and each
 * step stirs 1024 words of a 256 KiB table in RAM and prints
 * "count N sum 0xSSSSSSSS" (a running sum of the words it stirred). At
 * the end it prints "counter: done STEPS checksum 0xSSSSSSSS" (FNV-1a of
 * the whole table) and powers off.
 *
 * A run restored from a snapshot taken at step K prints no "counter:
 * started", goes on from K+1 and ends with the same checksum as a run
 * that was never stopped, so a test can tell "continued" from "restarted"
 * and a wrong byte of RAM from a right one. tests/snapshot/lib.sh computes
 * the expected checksum the same way.
 *
 * Command line: counter.steps=N (default 400), counter.tick_ms=MS
 * (default 10; 0: as fast as it goes), counter.fill_mib=N (first write a
 * pattern to N MiB of RAM from 16 MiB up, so that a snapshot has that much
 * to save; bench/snapshot.py; default 0).
 */
#include "gt.h"

#define TABLE_WORDS 65536 /* 256 KiB: 64 pages, dirtied a few at a time */
#define STIR_WORDS 1024

static uint32_t table[TABLE_WORDS];

static inline uint64_t rdtsc32(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid32(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

/* The TSC frequency in kHz from the hypervisor leaves, or 0. */
static uint32_t tsc_khz(void)
{
	uint32_t r[4];

	cpuid32(1, r);
	if (!(r[2] & (1u << 31)))
		return 0;
	cpuid32(0x40000000, r);
	if (r[0] < 0x40000010)
		return 0;
	cpuid32(0x40000010, r);
	return r[0];
}

static uint32_t running;

/* Step i: a fixed walk over the table (tests/snapshot/counter_sum.py). */
static void stir(uint32_t i)
{
	for (uint32_t k = 0; k < STIR_WORDS; k++) {
		uint32_t idx = (i * 1031u + k * 67u) % TABLE_WORDS;

		table[idx] = table[idx] * 33u + i + k;
		running = running * 31u + table[idx];
	}
}

/* FNV-1a over the table's words. */
static uint32_t checksum(void)
{
	uint32_t h = 2166136261u;

	for (uint32_t j = 0; j < TABLE_WORDS; j++)
		h = (h ^ table[j]) * 16777619u;
	return h;
}

static uint32_t steps = 400, tick_ms = 10, fill_mib;

#define FILL_BASE (16u << 20)

static void parse_options(const struct osprey_hvm_start_info *si)
{
	const char *c, *v;

	if (!si || !si->cmdline_paddr || si->cmdline_paddr >= (1ULL << 32))
		return;
	c = phys_ptr(si->cmdline_paddr);
	for (unsigned n = 0; *c && n < 4096;) {
		while (gt_is_space(*c))
			c++;
		if ((v = gt_word_value(c, "counter.steps=")))
			steps = (uint32_t)gt_parse_num(&v);
		else if ((v = gt_word_value(c, "counter.tick_ms=")))
			tick_ms = (uint32_t)gt_parse_num(&v);
		else if ((v = gt_word_value(c, "counter.fill_mib=")))
			fill_mib = (uint32_t)gt_parse_num(&v);
		while (*c && !gt_is_space(*c)) {
			c++;
			n++;
		}
	}
}

void test_main(const struct osprey_hvm_start_info *si)
{
	uint64_t per_tick, next;

	parse_options(si);
	/* Below 3 GiB and inside RAM (si's memory map is not read: keep N small). */
	if (fill_mib > 2048)
		fill_mib = 2048;
	for (uint32_t a = FILL_BASE; a < FILL_BASE + (fill_mib << 20); a += 4)
		*(volatile uint32_t *)phys_ptr(a) = a ^ 0x5a5a5a5au;
	per_tick = (uint64_t)tsc_khz() * tick_ms;
	print("counter: started, ");
	print_dec(steps);
	print(" steps\n");
	next = rdtsc32() + per_tick;
	for (uint32_t i = 0; i < steps; i++) {
		stir(i);
		print("count ");
		print_dec(i);
		print(" sum ");
		print_hex(running, 8);
		print("\n");
		if (per_tick) {
			while (rdtsc32() < next)
				__asm__ volatile("pause");
			next += per_tick;
			/* After a restore the TSC has jumped: no burst to catch up. */
			if (rdtsc32() > next + 4 * per_tick)
				next = rdtsc32() + per_tick;
		}
	}
	print("counter: done ");
	print_dec(steps);
	print(" checksum ");
	print_hex(checksum(), 8);
	print("\n");
	poweroff();
}
