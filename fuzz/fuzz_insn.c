// SPDX-License-Identifier: Apache-2.0
/*
 * x86_insn_name on guest instruction bytes. The first byte sets the size
 * of the output buffer (0..63), the rest are the instruction bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/insn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	size_t buflen;
	const char *name;

	if (size == 0)
		return 0;
	buflen = data[0] & 0x3f;
	/* Exactly buflen bytes on the heap, so ASan sees any overrun. */
	buf = malloc(buflen ? buflen : 1);
	if (!buf)
		return 0;
	name = x86_insn_name(data + 1, size - 1, buf, buflen);
	if (name != buf)
		abort();
	if (buflen && strnlen(buf, buflen) == buflen)
		abort(); /* not NUL-terminated */
	free(buf);
	return 0;
}
