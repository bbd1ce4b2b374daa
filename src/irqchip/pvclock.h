/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvmclock (pvclock) structures for the software-CPU backend: the
 * per-vCPU struct pvclock_vcpu_time_info a guest registers with
 * MSR_KVM_SYSTEM_TIME_NEW, and struct pvclock_wall_clock for
 * MSR_KVM_WALL_CLOCK_NEW. The layouts are the guest ABI (Linux
 * include/uapi... pvclock-abi.h), redeclared here (both naturally aligned, no packing).
 *
 * Modelled: the version protocol (odd while the host writes, even when
 * done; the guest retries while odd or changed), a 1 GHz TSC (SOFT_TSC_HZ):
 * tsc_to_system_mul = 2^31 with tsc_shift = 1, so the guest computes
 * ns = ((tsc << 1) * 2^31) >> 32 = tsc exactly; the flags
 * (PVCLOCK_TSC_STABLE_BIT, PVCLOCK_GUEST_STOPPED_BIT).
 * Not modelled: the MSRs themselves (the machine keeps them in struct
 * x86_msrs and calls these writers), kvmclock's per-CPU pages in a
 * vsyscall area.
 *
 * Every write goes through guest_mem_ptr() (a gpa outside RAM, or a
 * structure that crosses the end of a RAM region, returns -EFAULT); the
 * fields are stored with release ordering so a guest on another CPU
 * never sees a half-written even version.
 */
#ifndef OSPREY_IRQCHIP_PVCLOCK_H
#define OSPREY_IRQCHIP_PVCLOCK_H

#include <stdint.h>

#include "hw/memory.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define MSR_KVM_SYSTEM_TIME_ENABLE 1ULL

#define PVCLOCK_TSC_STABLE_BIT (1u << 0)
#define PVCLOCK_GUEST_STOPPED_BIT (1u << 1)

/* ns = ((tsc << PVCLOCK_1GHZ_SHIFT) * PVCLOCK_1GHZ_MUL) >> 32 == tsc */
#define PVCLOCK_1GHZ_MUL 0x80000000u
#define PVCLOCK_1GHZ_SHIFT 1

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};
_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock_vcpu_time_info is 32 bytes");

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
};
_Static_assert(sizeof(struct pvclock_wall_clock) == 12, "pvclock_wall_clock is 12 bytes");

/*
 * Publishes the time info at gpa (the MSR value without its enable bit):
 * at guest TSC tsc, the guest's kvmclock reads system_time_ns. flags:
 * PVCLOCK_* bits. 0, or -EFAULT when [gpa, gpa + 32) is not RAM.
 */
int pvclock_write_time_info(const struct guest_mem *mem, uint64_t gpa, uint64_t tsc,
			    uint64_t system_time_ns, uint8_t flags);

/* The same on a host pointer the caller already checked (32 bytes). */
void pvclock_fill_time_info(struct pvclock_vcpu_time_info *ti, uint64_t tsc,
			    uint64_t system_time_ns, uint8_t flags);

/*
 * Publishes the wall clock at gpa: the real time (ns since the epoch) at
 * which the guest's kvmclock read 0. 0 or -EFAULT.
 */
int pvclock_write_wall_clock(const struct guest_mem *mem, uint64_t gpa, uint64_t boot_wall_ns);
void pvclock_fill_wall_clock(struct pvclock_wall_clock *wc, uint64_t boot_wall_ns);

/* What a guest computes from a time info at guest TSC tsc (tests, debugging). */
uint64_t pvclock_read(const struct pvclock_vcpu_time_info *ti, uint64_t tsc);

#endif
