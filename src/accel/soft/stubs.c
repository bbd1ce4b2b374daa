// SPDX-License-Identifier: Apache-2.0
/*
 * Weak stand-ins for the parts of the software CPU that other families
 * provide (integer, x87, SSE handler tables; the lazy-flag accessors of
 * flags.c), so that the core links and runs on its own. The real
 * definitions override these; delete this file once all are merged.
 */
#include "accel/soft/cpu_internal.h"

__attribute__((weak)) const struct soft_handler_table soft_handlers_int = { 0, 0 };
__attribute__((weak)) const struct soft_handler_table soft_handlers_x87 = { 0, 0 };
__attribute__((weak)) const struct soft_handler_table soft_handlers_sse = { 0, 0 };

__attribute__((weak)) uint64_t soft_get_flags(struct soft_cpu *cpu)
{
	return soft_regs(cpu)->rflags;
}

__attribute__((weak)) void soft_set_flags(struct soft_cpu *cpu, uint64_t rflags)
{
	soft_regs(cpu)->rflags = rflags | X86_FLAGS_FIXED;
}
