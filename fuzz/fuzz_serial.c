// SPDX-License-Identifier: Apache-2.0
/*
 * 16550A register model, driven the way a guest and the host console
 * drive it. The input is a sequence of records; the top two bits of the
 * first byte pick the kind:
 *   00oooooo          read register o (0..15: 8..15 are out of range)
 *   01oooooo vv       write vv to register o
 *   10nnnnnn bytes    host input: n + 1 bytes (serial_receive)
 *   11nnnnnn          host input: n * 32 bytes of filler (fills the buffer)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	bool irq;
	size_t tx;
};

static void fz_tx(void *opaque, uint8_t byte)
{
	struct fuzz_state *st = opaque;

	(void)byte;
	st->tx++;
}

static void fz_irq(void *opaque, bool level)
{
	struct fuzz_state *st = opaque;

	if (level == st->irq)
		abort(); /* the model only reports changes */
	st->irq = level;
}

static void fz_space(void *opaque)
{
	(void)opaque;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t filler[63 * 32];
	struct fuzz_state st = { 0 };
	struct serial s;
	size_t i = 0;

	memset(filler, 'f', sizeof(filler));
	memset(&s, 0, sizeof(s));
	serial_init(&s);
	s.tx = fz_tx;
	s.set_irq = fz_irq;
	s.rx_space = fz_space;
	s.opaque = &st;
	while (i < size) {
		uint8_t c = data[i++];
		unsigned arg = c & 0x3f;

		switch (c >> 6) {
		case 0:
			serial_read(&s, arg & 0x0f);
			break;
		case 1:
			if (i < size)
				serial_write(&s, arg & 0x0f, data[i++]);
			break;
		case 2: {
			size_t n = arg + 1;

			if (n > size - i)
				n = size - i;
			if (serial_receive(&s, data + i, n) > n)
				abort();
			i += n;
			break;
		}
		default:
			if (serial_receive(&s, filler, arg * 32) > arg * 32)
				abort();
			break;
		}
		if (s.rx_count > SERIAL_RX_BUF || s.rx_head >= SERIAL_RX_BUF ||
		    s.irq_level != st.irq)
			abort();
		/* LSR.DR is exactly "receive buffer not empty". */
		if (!!(serial_read(&s, UART_LSR) & UART_LSR_DR) != (s.rx_count != 0))
			abort();
	}
	pthread_mutex_destroy(&s.lock);
	return 0;
}
