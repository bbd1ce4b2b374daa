/* SPDX-License-Identifier: MIT */
/* cpuloops.h - the loops of cpuloops.S and their instructions per iteration. */
#ifndef CPULOOPS_H
#define CPULOOPS_H

#include <stdint.h>

#define CPULOOP_INT_INSNS 12
#define CPULOOP_BRANCH_INSNS 12
#define CPULOOP_MEM_INSNS 8

uint64_t cpuloop_int(uint64_t iters, uint64_t seed);
uint64_t cpuloop_branch(uint64_t iters, uint64_t seed);
uint64_t cpuloop_mem(uint64_t iters, uint32_t *buf4k);

#endif
