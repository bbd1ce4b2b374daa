/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names the x86 instruction at the start of a byte buffer, for error
 * reports ("cmpxchg16b [rsi]", "xrstor [rdi]", "int3", ...): Zydis
 * decodes it as 64-bit code and formats it in Intel syntax. Bytes that
 * end too early read "truncated (...)", invalid ones "undecodable (...)".
 */
#ifndef OSPREY_ARCH_X86_INSN_H
#define OSPREY_ARCH_X86_INSN_H

#include <stddef.h>
#include <stdint.h>

/* Writes the text into buf (always NUL-terminated when buflen > 0) and returns buf. */
const char *x86_insn_name(const uint8_t *bytes, size_t len, char *buf, size_t buflen);

#endif
