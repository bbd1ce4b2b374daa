/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lazy arithmetic flags of the software CPU: ALU instructions record what
 * they did (operation, size, operands, result) and CF/PF/AF/ZF/SF/OF are
 * computed only when something reads them (Jcc, SETcc, PUSHF, interrupt
 * delivery...). Owned by the integer-instruction files; the core embeds
 * struct soft_lazy_flags in struct soft_cpu and reaches it with soft_lazy().
 *
 * Placeholder layout: the integer-handler side may change the fields.
 */
#ifndef OSPREY_ACCEL_SOFT_FLAGS_H
#define OSPREY_ACCEL_SOFT_FLAGS_H

#include <stdint.h>

struct soft_lazy_flags {
	uint64_t result;
	uint64_t src1;
	uint64_t src2;
	uint32_t op;   /* which operation produced them (0: flags are in rflags) */
	uint32_t size; /* operand size in bytes */
};

#endif
