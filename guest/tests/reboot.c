/* SPDX-License-Identifier: MIT */
/*
 * reboot - asks the i8042 keyboard controller to pulse the reset line
 * (command 0xFE on port 0x64); osprey treats that as a reboot and exits with
 * status 2.  If nothing happens within a short while the guest says so and
 * powers off (status 0), so a test can tell the two apart.
 */
#include "gt.h"

void test_main(const struct osprey_hvm_start_info *si)
{
	(void)si;
	print("rebooting\n");
	outb(OSPREY_I8042_CMD_PORT, OSPREY_I8042_CMD_RESET);

	/* Give an asynchronous reset a moment: each iteration is a port
	 * read (a VM exit), so this is ~1 s emulated, ~0.1 s natively. */
	for (unsigned i = 0; i < 100000; i++)
		(void)inb(OSPREY_I8042_CMD_PORT);
	print("reboot did not happen\n");
	poweroff();
}
