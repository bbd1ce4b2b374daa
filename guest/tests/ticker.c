/* SPDX-License-Identifier: MIT */
/*
 * ticker - runs until told to stop, for tests of a running machine
 * (pause/resume, Ctrl-Alt-Del): prints "tick N" about every 50 ms and
 * polls the i8042 for scancodes. On the Delete make code of Ctrl-Alt-Del
 * (0x53 in scancode set 1, 0x71 in set 2) it prints "ctrl-alt-del
 * received" and powers off. After TICKS_MAX ticks (about a minute) it
 * prints "ticker: timeout" and powers off.
 *
 * Pacing: by the TSC when the hypervisor's CPUID leaf 0x40000010 gives
 * its frequency (osprey's software CPU and KVM templates that have it),
 * else by reads of the i8042 status port (~10 us each as VM exits under
 * KVM; far cheaper on a software CPU, hence the TSC first).
 */
#include "gt.h"

#define TICKS_MAX 1200
#define TICK_MS 50
#define POLLS_PER_TICK 5000

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
	if (!(r[2] & (1u << 31))) /* no hypervisor */
		return 0;
	cpuid32(0x40000000, r);
	if (r[0] < 0x40000010)
		return 0;
	cpuid32(0x40000010, r);
	return r[0];
}

static void poll_keyboard(void)
{
	if (inb(0x64) & 1) {
		uint8_t sc = inb(0x60);

		if (sc == 0x53 || sc == 0x71) {
			print("ctrl-alt-del received\n");
			poweroff();
		}
	}
}

void test_main(const struct osprey_hvm_start_info *si)
{
	uint64_t per_tick = (uint64_t)tsc_khz() * TICK_MS, next = rdtsc32() + per_tick;

	(void)si;
	print("ticker: started\n");
	for (uint32_t tick = 0; tick < TICKS_MAX; tick++) {
		if (per_tick) {
			while (rdtsc32() < next)
				poll_keyboard();
			next += per_tick;
		} else {
			for (unsigned i = 0; i < POLLS_PER_TICK; i++)
				poll_keyboard();
		}
		print("tick ");
		print_dec(tick);
		print("\n");
	}
	print("ticker: timeout\n");
	poweroff();
}
