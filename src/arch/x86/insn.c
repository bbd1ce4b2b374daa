// SPDX-License-Identifier: Apache-2.0
#include "arch/x86/insn.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

struct op_name {
	uint8_t opcode;
	int8_t reg; /* ModRM.reg for group opcodes, -1 when not a group */
	int8_t mod3; /* 1: only when ModRM.mod == 3, 0: only memory forms, -1 any */
	uint8_t rm;  /* with mod3 == 1 and rm_match: ModRM.rm */
	bool rm_match;
	const char *name;
};

static const struct op_name one_byte[] = {
	{ 0x0f, -1, -1, 0, false, NULL }, /* escape, handled separately */
	{ 0x9b, -1, -1, 0, false, "fwait" },
	{ 0xcc, -1, -1, 0, false, "int3" },
	{ 0xcd, -1, -1, 0, false, "int imm8" },
	{ 0xce, -1, -1, 0, false, "into" },
	{ 0xcf, -1, -1, 0, false, "iret" },
	{ 0xf4, -1, -1, 0, false, "hlt" },
	{ 0xe4, -1, -1, 0, false, "in al, imm8" },
	{ 0xe5, -1, -1, 0, false, "in eax, imm8" },
	{ 0xe6, -1, -1, 0, false, "out imm8, al" },
	{ 0xe7, -1, -1, 0, false, "out imm8, eax" },
	{ 0xec, -1, -1, 0, false, "in al, dx" },
	{ 0xed, -1, -1, 0, false, "in eax, dx" },
	{ 0xee, -1, -1, 0, false, "out dx, al" },
	{ 0xef, -1, -1, 0, false, "out dx, eax" },
	{ 0x6c, -1, -1, 0, false, "insb" },
	{ 0x6d, -1, -1, 0, false, "insd" },
	{ 0x6e, -1, -1, 0, false, "outsb" },
	{ 0x6f, -1, -1, 0, false, "outsd" },
	{ 0xa4, -1, -1, 0, false, "movsb" },
	{ 0xa5, -1, -1, 0, false, "movs" },
	{ 0xaa, -1, -1, 0, false, "stosb" },
	{ 0xab, -1, -1, 0, false, "stos" },
	{ 0xfa, -1, -1, 0, false, "cli" },
	{ 0xfb, -1, -1, 0, false, "sti" },
	{ 0x9c, -1, -1, 0, false, "pushf" },
	{ 0x9d, -1, -1, 0, false, "popf" },
	{ 0xd9, 7, 0, 0, false, "fnstcw" },
	{ 0xd9, 5, 0, 0, false, "fldcw" },
	{ 0xdb, 4, 1, 2, true, "fnclex" },
	{ 0xdb, 4, 1, 3, true, "fninit" },
	{ 0xdd, 7, 0, 0, false, "fnstsw" },
	{ 0xdf, 4, 1, 0, true, "fnstsw ax" },
	{ 0x89, -1, -1, 0, false, "mov r/m, reg" },
	{ 0x8b, -1, -1, 0, false, "mov reg, r/m" },
	{ 0x88, -1, -1, 0, false, "mov r/m8, reg8" },
	{ 0x8a, -1, -1, 0, false, "mov reg8, r/m8" },
	{ 0xc6, -1, -1, 0, false, "mov r/m8, imm8" },
	{ 0xc7, -1, -1, 0, false, "mov r/m, imm" },
};

static const struct op_name two_byte[] = {
	{ 0x01, 1, 1, 0, true, "monitor" },
	{ 0x01, 1, 1, 1, true, "mwait" },
	{ 0x01, 1, 1, 2, true, "clac" },
	{ 0x01, 1, 1, 3, true, "stac" },
	{ 0x01, 2, 1, 0, true, "xgetbv" },
	{ 0x01, 2, 1, 1, true, "xsetbv" },
	{ 0x01, 3, 1, 1, true, "vmmcall" },
	{ 0x01, 0, 1, 1, true, "vmcall" },
	{ 0x01, 7, 1, 0, true, "swapgs" },
	{ 0x01, 7, 1, 1, true, "rdtscp" },
	{ 0x01, 0, 0, 0, false, "sgdt" },
	{ 0x01, 1, 0, 0, false, "sidt" },
	{ 0x01, 2, 0, 0, false, "lgdt" },
	{ 0x01, 3, 0, 0, false, "lidt" },
	{ 0x01, 7, 0, 0, false, "invlpg" },
	{ 0x05, -1, -1, 0, false, "syscall" },
	{ 0x07, -1, -1, 0, false, "sysret" },
	{ 0x0b, -1, -1, 0, false, "ud2" },
	{ 0x0d, -1, -1, 0, false, "prefetchw" },
	{ 0x18, -1, -1, 0, false, "prefetch" },
	{ 0x1f, -1, -1, 0, false, "nop r/m" },
	{ 0x20, -1, -1, 0, false, "mov reg, cr" },
	{ 0x22, -1, -1, 0, false, "mov cr, reg" },
	{ 0x28, -1, -1, 0, false, "movaps" },
	{ 0x29, -1, -1, 0, false, "movaps (store)" },
	{ 0x30, -1, -1, 0, false, "wrmsr" },
	{ 0x31, -1, -1, 0, false, "rdtsc" },
	{ 0x32, -1, -1, 0, false, "rdmsr" },
	{ 0x34, -1, -1, 0, false, "sysenter" },
	{ 0x6f, -1, -1, 0, false, "movq/movdqa (load)" },
	{ 0x7f, -1, -1, 0, false, "movq/movdqa (store)" },
	{ 0x77, -1, -1, 0, false, "emms" },
	{ 0xa2, -1, -1, 0, false, "cpuid" },
	{ 0xae, 0, 0, 0, false, "fxsave" },
	{ 0xae, 1, 0, 0, false, "fxrstor" },
	{ 0xae, 2, 0, 0, false, "ldmxcsr" },
	{ 0xae, 3, 0, 0, false, "stmxcsr" },
	{ 0xae, 4, 0, 0, false, "xsave" },
	{ 0xae, 5, 0, 0, false, "xrstor" },
	{ 0xae, 6, 0, 0, false, "xsaveopt" },
	{ 0xae, 7, 0, 0, false, "clflush" },
	{ 0xae, 5, 1, 0, false, "lfence" },
	{ 0xae, 6, 1, 0, false, "mfence" },
	{ 0xae, 7, 1, 0, false, "sfence" },
	{ 0xae, 0, 1, 0, false, "rdfsbase" },
	{ 0xae, 1, 1, 0, false, "rdgsbase" },
	{ 0xae, 2, 1, 0, false, "wrfsbase" },
	{ 0xae, 3, 1, 0, false, "wrgsbase" },
	{ 0xb0, -1, -1, 0, false, "cmpxchg r/m8" },
	{ 0xb1, -1, -1, 0, false, "cmpxchg" },
	{ 0xb8, -1, -1, 0, false, "popcnt" },
	{ 0xc0, -1, -1, 0, false, "xadd r/m8" },
	{ 0xc1, -1, -1, 0, false, "xadd" },
	{ 0xc7, 1, 0, 0, false, "cmpxchg8b" }, /* cmpxchg16b with REX.W */
	{ 0xc7, 3, 0, 0, false, "xrstors" },
	{ 0xc7, 4, 0, 0, false, "xsavec" },
	{ 0xc7, 5, 0, 0, false, "xsaves" },
	{ 0xc7, 6, 1, 0, false, "rdrand" },
	{ 0xc7, 7, 1, 0, false, "rdseed" },
	{ 0xbc, -1, -1, 0, false, "bsf/tzcnt" },
	{ 0xbd, -1, -1, 0, false, "bsr/lzcnt" },
};

static const struct op_name *op_lookup(const struct op_name *tab, size_t n, uint8_t op,
				       bool have_modrm, uint8_t modrm)
{
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;

	for (size_t i = 0; i < n; i++) {
		const struct op_name *o = &tab[i];

		if (o->opcode != op)
			continue;
		if (o->reg >= 0) {
			if (!have_modrm || (unsigned)o->reg != reg)
				continue;
			if (o->mod3 == 1 && mod != 3)
				continue;
			if (o->mod3 == 0 && mod == 3)
				continue;
			if (o->rm_match && rm != o->rm)
				continue;
		}
		return o;
	}
	return NULL;
}

const char *x86_insn_name(const uint8_t *b, size_t len, char *buf, size_t buflen)
{
	size_t i = 0;
	bool rex_w = false, rep = false, opsize = false;
	const struct op_name *o;

	if (buflen == 0)
		return buf;
	/* Legacy prefixes, then REX. At most 14 prefix bytes in a valid insn. */
	while (i < len && i < 14) {
		uint8_t p = b[i];

		if (p == 0xf3 || p == 0xf2)
			rep = true;
		else if (p == 0x66)
			opsize = true;
		else if (!(p == 0xf0 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x26 ||
			   p == 0x64 || p == 0x65 || p == 0x67))
			break;
		i++;
	}
	if (i < len && (b[i] & 0xf0) == 0x40) {
		rex_w = b[i] & 8;
		i++;
	}
	if (i >= len) {
		snprintf(buf, buflen, "unknown (truncated)");
		return buf;
	}
	if (b[i] == 0x0f) {
		if (i + 1 >= len) {
			snprintf(buf, buflen, "unknown (0f, truncated)");
			return buf;
		}
		if (b[i + 1] == 0x38 || b[i + 1] == 0x3a) {
			snprintf(buf, buflen, "SSE/AVX three-byte opcode (0f %02x %02x)", b[i + 1],
				 i + 2 < len ? b[i + 2] : 0);
			return buf;
		}
		o = op_lookup(two_byte, ARRAY_SIZE(two_byte), b[i + 1], i + 2 < len,
			      i + 2 < len ? b[i + 2] : 0);
		if (o && b[i + 1] == 0xc7 && strcmp(o->name, "cmpxchg8b") == 0 && rex_w)
			snprintf(buf, buflen, "cmpxchg16b");
		else if (o && b[i + 1] == 0xb8 && !rep)
			snprintf(buf, buflen, "jmpe");
		else if (o)
			snprintf(buf, buflen, "%s", o->name);
		else
			snprintf(buf, buflen, "unknown (0f %02x)", b[i + 1]);
		return buf;
	}
	if (b[i] == 0xc4 || b[i] == 0xc5) {
		snprintf(buf, buflen, "VEX-encoded (AVX) instruction");
		return buf;
	}
	if (b[i] == 0x62) {
		snprintf(buf, buflen, "EVEX-encoded (AVX-512) instruction");
		return buf;
	}
	o = op_lookup(one_byte, ARRAY_SIZE(one_byte), b[i], i + 1 < len, i + 1 < len ? b[i + 1] : 0);
	if (o && o->name)
		snprintf(buf, buflen, "%s%s%s", rep ? "rep " : "", o->name,
			 opsize && !rex_w ? " (16-bit operand)" : "");
	else
		snprintf(buf, buflen, "unknown (%02x)", b[i]);
	return buf;
}
