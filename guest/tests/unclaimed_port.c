/* SPDX-License-Identifier: MIT */
/*
 * unclaimed_port - an I/O port no device claims reads as all ones at every
 * width and swallows writes.
 */
#include "gt.h"

#define UNCLAIMED_PORT 0x0123

void test_main(const struct osprey_hvm_start_info *si)
{
	uint8_t v8 = inb(UNCLAIMED_PORT);
	uint16_t v16 = inw(UNCLAIMED_PORT);
	uint32_t v32 = inl(UNCLAIMED_PORT);

	(void)si;
	print("unclaimed in8=");
	print_hex(v8, 2);
	print(" in16=");
	print_hex(v16, 4);
	print(" in32=");
	print_hex(v32, 8);
	print("\n");

	outb(UNCLAIMED_PORT, 0x5a);
	outw(UNCLAIMED_PORT, 0x5a5a);
	outl(UNCLAIMED_PORT, 0x5a5a5a5a);
	print("still alive\n");
	poweroff();
}
