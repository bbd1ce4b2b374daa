/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names the x86 instruction at the start of a byte buffer, for emulation
 * failure reports ("cmpxchg16b", "xrstor", "int3", ...). Not a full
 * decoder: prefixes, REX, one- and two-byte opcodes, ModRM group
 * extensions; anything else is reported by its opcode bytes.
 */
#ifndef OSPREY_ARCH_X86_INSN_H
#define OSPREY_ARCH_X86_INSN_H

#include <stddef.h>
#include <stdint.h>

/* Writes a name into buf (always NUL-terminated) and returns buf. */
const char *x86_insn_name(const uint8_t *bytes, size_t len, char *buf, size_t buflen);

#endif
