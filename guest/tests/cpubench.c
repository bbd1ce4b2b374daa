/* SPDX-License-Identifier: MIT */
/*
 * cpubench - runs the CPU-bound loops of cpuloops.S in user mode (CPL3,
 * long mode, paging on), as a guest's user programs run, and prints one
 * checksum line per loop. bench/cpu.py boots it with two iteration counts
 * on each backend and turns the difference in wall time into guest MIPS.
 *
 *   cpubench.iters=N    iterations of each loop (default 1000000)
 *   cpubench.loops=M    bit mask: 1 int, 2 branch, 4 mem (default 7)
 */
#include "cpuloops.h"
#include "gt64.h"

#define BIG __attribute__((section(".bigbss")))
static uint8_t ustack[16 * 1024] BIG __attribute__((aligned(16)));
static uint32_t table[1024] __attribute__((aligned(4096)));

static uint64_t iters = 1000000, loops = 7;

static uint64_t run_int(void *arg)
{
	(void)arg;
	return cpuloop_int(iters, 0x2545f4914f6cdd1dULL);
}

static uint64_t run_branch(void *arg)
{
	(void)arg;
	return cpuloop_branch(iters, 0x9e3779b97f4a7c15ULL);
}

static uint64_t run_mem(void *arg)
{
	(void)arg;
	return cpuloop_mem(iters, table);
}

static void parse_options(const struct osprey_hvm_start_info *si)
{
	const char *c, *v;

	if (!si->cmdline_paddr || si->cmdline_paddr >= (1ULL << 32))
		return;
	c = phys_ptr(si->cmdline_paddr);
	for (unsigned n = 0; *c && n < 4096;) {
		while (gt_is_space(*c))
			c++;
		if ((v = gt_word_value(c, "cpubench.iters=")))
			iters = gt_parse_num(&v);
		else if ((v = gt_word_value(c, "cpubench.loops=")))
			loops = gt_parse_num(&v);
		while (*c && !gt_is_space(*c)) {
			c++;
			n++;
		}
	}
}

static void run(const char *name, uint64_t (*fn)(void *), unsigned insns)
{
	uint64_t sum = gt64_enter_user(fn, NULL, (uint64_t)(uintptr_t)(ustack + sizeof(ustack)),
				       GT64_RFLAGS_FIXED);

	print("cpubench: ");
	print(name);
	print(" iters=");
	print_dec64(iters);
	print(" insns=");
	print_dec64(iters * insns);
	print(" sum=");
	print_hex64(sum);
	print("\n");
}

void test_main(const struct osprey_hvm_start_info *si)
{
	if (!start_info_ok(si)) {
		print("cpubench: FAIL: bad start_info\n");
		gt64_fail();
	}
	gt64_cpu_init();
	parse_options(si);
	if (loops & 1)
		run("int", run_int, CPULOOP_INT_INSNS);
	if (loops & 2)
		run("branch", run_branch, CPULOOP_BRANCH_INSNS);
	if (loops & 4)
		run("mem", run_mem, CPULOOP_MEM_INSNS);
	print("cpubench: done\n");
	poweroff();
}
