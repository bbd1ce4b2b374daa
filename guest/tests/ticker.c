/* SPDX-License-Identifier: MIT */
/*
 * ticker - a guest that keeps running until told to stop, for pause and
 * resume tests: prints "tick N" after every 2000 polls of the i8042
 * status port, N from 1 up to `ticks=N` on the command line (default
 * 3000), then "ticks done" and powers off. A key from the i8042
 * (Ctrl-Alt-Del from the VMM) or a byte on COM1 ends it early:
 * "key 0xNN" or "input 0xNN", then power off.
 */
#include "gt.h"

#define CMDLINE_MAX 4096
#define POLLS_PER_TICK 2000
#define DEFAULT_TICKS 3000

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define COM1_RBR 0x3f8
#define COM1_LSR 0x3fd

/* The value of "ticks=N" in the command line, or DEFAULT_TICKS. */
static uint32_t ticks_wanted(const struct osprey_hvm_start_info *si)
{
	const char *s;
	uint32_t n = 0;
	int i, found = 0;

	if (!start_info_ok(si) || si->cmdline_paddr == 0 ||
	    si->cmdline_paddr >= 0xffffffffULL - CMDLINE_MAX)
		return DEFAULT_TICKS;
	s = phys_ptr(si->cmdline_paddr);
	for (i = 0; i < CMDLINE_MAX && s[i]; i++) {
		if ((i == 0 || s[i - 1] == ' ') && s[i] == 't' && s[i + 1] == 'i' &&
		    s[i + 2] == 'c' && s[i + 3] == 'k' && s[i + 4] == 's' && s[i + 5] == '=') {
			n = 0;
			found = 1;
			for (i += 6; i < CMDLINE_MAX && s[i] >= '0' && s[i] <= '9'; i++)
				n = n * 10 + (uint32_t)(s[i] - '0');
			if (i >= CMDLINE_MAX || !s[i])
				break;
		}
	}
	return found ? n : DEFAULT_TICKS;
}

void test_main(const struct osprey_hvm_start_info *si)
{
	uint32_t ticks = ticks_wanted(si), n, p;

	print("ticker: ");
	print_dec(ticks);
	print(" ticks\n");
	for (n = 1; n <= ticks; n++) {
		for (p = 0; p < POLLS_PER_TICK; p++) {
			if (inb(I8042_STATUS) & 1) {
				print("key ");
				print_hex(inb(I8042_DATA), 2);
				print("\n");
				poweroff();
			}
			if ((p & 63) == 0 && (inb(COM1_LSR) & 1)) {
				print("input ");
				print_hex(inb(COM1_RBR), 2);
				print("\n");
				poweroff();
			}
		}
		print("tick ");
		print_dec(n);
		print("\n");
	}
	print("ticks done\n");
	poweroff();
}
