// SPDX-License-Identifier: Apache-2.0
/* Which KVM emulation failures osprey can complete (emulate.h). */
#include "arch/x86/emulate.h"

enum x86_emulated x86_emulate_classify(const uint8_t *insn, size_t len)
{
	if (len < 1)
		return X86_EMULATED_NONE;
	if (insn[0] == 0xcc)
		return X86_EMULATED_INT3;
	if (insn[0] == 0x9b)
		return X86_EMULATED_FWAIT;
	return X86_EMULATED_NONE;
}
