// SPDX-License-Identifier: Apache-2.0
/*
 * cpu_native: the cpubench loops (guest/tests/cpuloops.S) run natively on
 * the host, for bench/cpu.py's host column. Same object code as in the
 * guest; prints the same checksum lines as the cpubench guest.
 *
 *   cpu_native ITERS [LOOPS]
 */
#include <stdio.h>
#include <stdlib.h>

#include "cpuloops.h"

static uint32_t table[1024] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	unsigned long long iters = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	unsigned long loops = argc > 2 ? strtoul(argv[2], NULL, 0) : 7;

	if (loops & 1)
		printf("cpubench: int iters=%llu sum=0x%016llx\n", iters,
		       (unsigned long long)cpuloop_int(iters, 0x2545f4914f6cdd1dULL));
	if (loops & 2)
		printf("cpubench: branch iters=%llu sum=0x%016llx\n", iters,
		       (unsigned long long)cpuloop_branch(iters, 0x9e3779b97f4a7c15ULL));
	if (loops & 4)
		printf("cpubench: mem iters=%llu sum=0x%016llx\n", iters,
		       (unsigned long long)cpuloop_mem(iters, table));
	return 0;
}
