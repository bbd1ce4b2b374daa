// SPDX-License-Identifier: Apache-2.0
/*
 * Weak stand-ins for the core's handler services and the other families'
 * tables (exec.h), so that the integer handlers link in a tree that does
 * not have the core yet. Every real definition replaces them; the
 * services abort if one is ever called. Delete this file once the core
 * and the other families are merged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "accel/soft/int_priv.h"

static __attribute__((noreturn)) void no_core(const char *what)
{
	fprintf(stderr, "osprey: soft CPU core service %s is missing\n", what);
	abort();
}

#define WEAK __attribute__((weak))

WEAK struct x86_cpu_state *soft_regs(struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK void soft_raise(struct soft_cpu *cpu, unsigned vector, int64_t error)
{
	(void)cpu, (void)vector, (void)error;
	no_core(__func__);
}

WEAK uint64_t soft_ea(struct soft_cpu *cpu, const struct soft_insn *in,
		      const struct soft_operand *op)
{
	(void)cpu, (void)in, (void)op;
	no_core(__func__);
}

WEAK void soft_read(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len)
{
	(void)cpu, (void)linear, (void)dst, (void)len;
	no_core(__func__);
}

WEAK void soft_write(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len)
{
	(void)cpu, (void)linear, (void)src, (void)len;
	no_core(__func__);
}

WEAK void soft_probe_write(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	(void)cpu, (void)linear, (void)len;
	no_core(__func__);
}

WEAK uint64_t soft_op_read(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i)
{
	(void)cpu, (void)in, (void)i;
	no_core(__func__);
}

WEAK void soft_op_write(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, uint64_t v)
{
	(void)cpu, (void)in, (void)i, (void)v;
	no_core(__func__);
}

WEAK unsigned soft_cpl(const struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK bool soft_long_mode(const struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK bool soft_code64(const struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK uint64_t soft_insn_rip(const struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK void *soft_translate_rmw(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	(void)cpu, (void)linear, (void)len;
	no_core(__func__);
}

WEAK void soft_lock_slow(void)
{
	no_core(__func__);
}

WEAK void soft_unlock_slow(void)
{
	no_core(__func__);
}

WEAK struct soft_lazy_flags *soft_lazy(struct soft_cpu *cpu)
{
	(void)cpu;
	no_core(__func__);
}

WEAK void soft_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)cpu, (void)in;
	no_core(__func__);
}

WEAK const struct soft_handler_table soft_handlers_system = { NULL, 0 };
WEAK const struct soft_handler_table soft_handlers_x87 = { NULL, 0 };
WEAK const struct soft_handler_table soft_handlers_sse = { NULL, 0 };
