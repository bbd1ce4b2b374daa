/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fallback for guest instructions that KVM's instruction emulator cannot
 * execute. On hosts where KVM emulates guest kernel code (kvm_pvm) a
 * kernel-mode int3 or fwait stops the guest with an emulation failure;
 * osprey completes them instead, so unmodified kernels get further:
 *
 *   int3   inject #BP with RIP after the instruction (Linux's alternatives
 *          self-test, live code patching with text_poke_bp())
 *   fwait  #MF if the x87 status word has an unmasked exception pending,
 *          otherwise nothing
 *
 * Everything else is reported as before.
 */
#ifndef OSPREY_ARCH_X86_EMULATE_H
#define OSPREY_ARCH_X86_EMULATE_H

#include <stddef.h>
#include <stdint.h>

enum x86_emulated {
	X86_EMULATED_NONE = 0, /* not an instruction osprey completes */
	X86_EMULATED_INT3,
	X86_EMULATED_FWAIT,
};

/* Which fallback applies to these instruction bytes (pure; unit tested). */
enum x86_emulated x86_emulate_classify(const uint8_t *insn, size_t len);

/* The KVM backend completes them (accel/kvm/emulate.c). */

#endif
