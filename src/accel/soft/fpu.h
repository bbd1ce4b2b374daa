/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the software CPU's x87/SSE family for the rest of osprey
 * (state dumps, snapshots, tests). The instruction handlers themselves
 * are reached through soft_handlers_x87 / soft_handlers_sse (exec.h).
 */
#ifndef OSPREY_ACCEL_SOFT_FPU_H
#define OSPREY_ACCEL_SOFT_FPU_H

#include <stdint.h>

#include "arch/x86/cpu_state.h"

/*
 * The full x87 tag word (2 bits per physical register: 0 valid, 1 zero,
 * 2 special, 3 empty) from the abridged tag and the register contents,
 * as FNSTENV/FNSAVE store it.
 */
uint16_t soft_fpu_full_tag_word(const struct x86_fxsave *fx);

/* The abridged tag byte of a full tag word (FRSTOR, FLDENV; KVM's ftwx). */
uint8_t soft_fpu_abridged_tag(uint16_t tw);

/*
 * struct x86_fxsave keeps the stack registers in physical order (R0..R7,
 * cpu_state.h); a real FXSAVE image (memory, KVM's kvm_fpu.fpr and the
 * legacy area of kvm_xsave) has them in stack order (ST0..ST7 from TOP).
 * These convert between the two: img is the 512-byte 64-bit FXSAVE
 * layout (FXSAVE64: 64-bit FIP/FDP, XMM0-15); bytes 416-511 of img are
 * left alone by the first and ignored by the second.
 */
void soft_fpu_to_fxsave_image(const struct x86_fxsave *fx, void *img);
void soft_fpu_from_fxsave_image(struct x86_fxsave *fx, const void *img);

/*
 * A program that links the library as an archive and runs the soft CPU
 * may call one of these to pull in x87.o (and with it sse.o, sse_int.o):
 * an archive member is not extracted to replace a weak placeholder
 * table that another member already defines.
 */

#endif
