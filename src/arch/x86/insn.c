// SPDX-License-Identifier: Apache-2.0
/*
 * Names the instruction at the start of a byte buffer, for error reports,
 * with Zydis (the decoder the software CPU uses): the full instruction in
 * Intel syntax ("cmpxchg16b [rsi]", "rep movsb"), decoded as 64-bit code.
 * Bytes that do not form an instruction are reported as such.
 */
#include "arch/x86/insn.h"

#include <Zydis/Zydis.h>
#include <stdio.h>
#include <string.h>

const char *x86_insn_name(const uint8_t *bytes, size_t len, char *buf, size_t buflen)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter fmt;
	ZyanStatus st;
	char text[128];

	if (!buflen)
		return buf;
	if (!bytes || !len) {
		snprintf(buf, buflen, "truncated (no bytes)");
		return buf;
	}
	if (len > ZYDIS_MAX_INSTRUCTION_LENGTH)
		len = ZYDIS_MAX_INSTRUCTION_LENGTH;
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	st = ZydisDecoderDecodeFull(&dec, bytes, len, &insn, ops);
	if (st == ZYDIS_STATUS_NO_MORE_DATA) {
		snprintf(buf, buflen, "truncated (%zu bytes)", len);
		return buf;
	}
	if (!ZYAN_SUCCESS(st)) {
		char hex[ZYDIS_MAX_INSTRUCTION_LENGTH * 3 + 1] = "";

		for (size_t i = 0; i < len; i++)
			snprintf(hex + i * 3, sizeof(hex) - i * 3, "%02x ", bytes[i]);
		hex[len * 3 - 1] = '\0';
		snprintf(buf, buflen, "undecodable (%s)", hex);
		return buf;
	}
	if (!ZYAN_SUCCESS(ZydisFormatterInit(&fmt, ZYDIS_FORMATTER_STYLE_INTEL)) ||
	    !ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&fmt, &insn, ops,
							  insn.operand_count_visible, text,
							  sizeof(text), 0, NULL)))
		snprintf(text, sizeof(text), "%s", ZydisMnemonicGetString(insn.mnemonic));
	snprintf(buf, buflen, "%s", text);
	return buf;
}
