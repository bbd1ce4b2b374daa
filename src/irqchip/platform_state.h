/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PC platform outside the vCPUs, in the one form both backends save
 * and load (accel ops platform_save/platform_load): the 8259A pair, the
 * IOAPIC, the 8254 PIT (with port 0x61) and the guest clock. The software
 * CPU's irqchip/ models use these snapshot structs directly; the KVM
 * backend converts KVM_GET_IRQCHIP / KVM_GET_PIT2 / KVM_GET_CLOCK to and
 * from them. Plain data.
 */
#ifndef OSPREY_IRQCHIP_PLATFORM_STATE_H
#define OSPREY_IRQCHIP_PLATFORM_STATE_H

#include <stdint.h>

#include "irqchip/ioapic.h"
#include "irqchip/pic.h"
#include "irqchip/pit.h"

#define X86_PLATFORM_STATE_VERSION 1

struct x86_platform_state {
	struct pic_snap pic;
	struct ioapic_snap ioapic;
	struct pit_snap pit;
	uint64_t clock_ns;	   /* the guest clock (kvmclock system time) when saved */
	uint64_t host_realtime_ns; /* host CLOCK_REALTIME when saved */
};

struct state_writer;
struct state_reader;
/* Stream form (base/state.h); read range-checks every field and fails r. */
void x86_platform_state_write(struct state_writer *w, const struct x86_platform_state *s);
void x86_platform_state_read(struct state_reader *r, struct x86_platform_state *s);

#endif
