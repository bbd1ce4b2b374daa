/* SPDX-License-Identifier: MIT */
/*
 * ticker - runs until told to stop, for tests of a running machine
 * (pause/resume, Ctrl-Alt-Del): prints "tick N" about every 50 ms (paced
 * by reads of the i8042 status port, ~10 us each as VM exits) and polls
 * the i8042 for scancodes. On the Delete make code of Ctrl-Alt-Del (0x53
 * in scancode set 1, 0x71 in set 2) it prints "ctrl-alt-del received" and
 * powers off. After TICKS_MAX ticks it prints "ticker: timeout" and powers
 * off.
 */
#include "gt.h"

#define TICKS_MAX 1200
#define POLLS_PER_TICK 5000

void test_main(const struct osprey_hvm_start_info *si)
{
	(void)si;
	print("ticker: started\n");
	for (uint32_t tick = 0; tick < TICKS_MAX; tick++) {
		for (unsigned i = 0; i < POLLS_PER_TICK; i++) {
			if (inb(0x64) & 1) {
				uint8_t sc = inb(0x60);

				if (sc == 0x53 || sc == 0x71) {
					print("ctrl-alt-del received\n");
					poweroff();
				}
			}
		}
		print("tick ");
		print_dec(tick);
		print("\n");
	}
	print("ticker: timeout\n");
	poweroff();
}
