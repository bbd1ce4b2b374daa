/* SPDX-License-Identifier: MIT */
/*
 * hello - smallest boot test: greeting, kernel command line from the PVH
 * start_info, MMIO boot marker, power off.
 */
#include "gt.h"

#define CMDLINE_MAX 4096

void test_main(const struct osprey_hvm_start_info *si)
{
	print("hello from osprey test guest\n");

	if (!start_info_ok(si)) {
		print("start_info: bad magic\n");
		poweroff();
	}

	print("cmdline: ");
	if (si->cmdline_paddr != 0 && si->cmdline_paddr < 0xffffffffULL - CMDLINE_MAX)
		print_n(phys_ptr(si->cmdline_paddr), CMDLINE_MAX);
	print("\n");

	boot_marker_mmio(1);
	print("boot marker written\n");
	poweroff();
}
