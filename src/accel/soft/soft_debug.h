/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Debugging aids of the software CPU (VMM glue, tests): a register dump.
 */
#ifndef OSPREY_ACCEL_SOFT_SOFT_DEBUG_H
#define OSPREY_ACCEL_SOFT_SOFT_DEBUG_H

#include <stdio.h>

struct soft_cpu;

/* Writes the registers, segments, control registers and mode to f. */
void soft_cpu_dump(struct soft_cpu *cpu, FILE *f);

#endif
