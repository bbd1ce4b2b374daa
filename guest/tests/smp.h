/* SPDX-License-Identifier: MIT */
/* smp.h - shared between smp.c and smp_ap.S */
#ifndef SMP_H
#define SMP_H

#define SMP_MAX_CPUS 256
/* Where the real-mode AP trampoline is copied: free low RAM in osprey's
 * layout (not 0x500-0x9fff, not the MP table), 4 KiB aligned, < 1 MiB. */
#define SMP_TRAMPOLINE_PADDR 0x10000

/* local APIC registers (offsets from OSPREY_LAPIC_BASE) */
#define LAPIC_ID       0x020
#define LAPIC_SVR      0x0f0
#define LAPIC_ICR_LO   0x300
#define LAPIC_ICR_HI   0x310
#define LAPIC_LVT_TMR  0x320
#define LAPIC_TMICT    0x380
#define LAPIC_TMCCT    0x390
#define LAPIC_TDCR     0x3e0

#ifndef __ASSEMBLER__
#include <stdint.h>
extern const char smp_tramp_start[], smp_tramp_end[];
extern volatile uint32_t smp_ap_slot;
extern volatile uint32_t smp_ap_count;
extern volatile uint32_t smp_ap_apic_ids[SMP_MAX_CPUS];
#endif

#endif /* SMP_H */
