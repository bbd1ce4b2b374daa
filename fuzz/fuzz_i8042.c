// SPDX-License-Identifier: Apache-2.0
/*
 * i8042 controller model. Records, by the top two bits of the first byte:
 *   00xxxxxp          read port p (0: data 0x60, 1: status 0x64)
 *   01xxxxxp vv       write vv to port p
 *   10xxxxxx          host Ctrl-Alt-Del
 *   11xxxxxx          read the data port until the buffer is empty
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	bool irq;
	unsigned resets;
};

static void fz_irq(void *opaque, bool level)
{
	struct fuzz_state *st = opaque;

	if (level == st->irq)
		abort();
	st->irq = level;
}

static void fz_reset(void *opaque)
{
	struct fuzz_state *st = opaque;

	st->resets++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state st = { 0 };
	struct i8042 k;
	size_t i = 0;

	memset(&k, 0, sizeof(k));
	i8042_init(&k);
	k.set_irq = fz_irq;
	k.reset = fz_reset;
	k.opaque = &st;
	while (i < size) {
		uint8_t c = data[i++];
		unsigned port = (c & 1) ? 0x64 : 0x60;

		switch (c >> 6) {
		case 0:
			i8042_read(&k, port);
			break;
		case 1:
			if (i < size)
				i8042_write(&k, port, data[i++]);
			break;
		case 2:
			i8042_ctrl_alt_del(&k);
			break;
		default:
			for (int n = 0; n <= I8042_BUF && (i8042_read(&k, 0x64) & I8042_STATUS_OBF);
			     n++)
				i8042_read(&k, 0x60);
			if (i8042_read(&k, 0x64) & I8042_STATUS_OBF)
				abort(); /* more queued than the buffer holds */
			break;
		}
		if (k.count > I8042_BUF || k.head >= I8042_BUF || k.irq_level != st.irq)
			abort();
		if (st.irq && !(k.ctr & I8042_CTR_KBDINT))
			abort();
	}
	pthread_mutex_destroy(&k.lock);
	return 0;
}
