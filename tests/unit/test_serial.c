// SPDX-License-Identifier: Apache-2.0
/* devices/serial: the 16550A register model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/serial.h"

struct fixture {
	struct serial uart;
	uint8_t tx[4096];
	size_t ntx;
	bool irq;
	unsigned irq_changes;
	unsigned space_calls;
};

static void fx_tx(void *opaque, uint8_t byte)
{
	struct fixture *f = opaque;

	if (f->ntx < sizeof(f->tx))
		f->tx[f->ntx++] = byte;
}

static void fx_irq(void *opaque, bool level)
{
	struct fixture *f = opaque;

	f->irq = level;
	f->irq_changes++;
}

static void fx_space(void *opaque)
{
	struct fixture *f = opaque;

	f->space_calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	serial_init(&f->uart);
	f->uart.tx = fx_tx;
	f->uart.set_irq = fx_irq;
	f->uart.rx_space = fx_space;
	f->uart.opaque = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_destroy(&f->uart.lock);
	free(f);
	return 0;
}

static void test_lsr_idle(void **state)
{
	struct fixture *f = *state;
	uint8_t lsr = serial_read(&f->uart, UART_LSR);

	assert_true(lsr & UART_LSR_THRE);
	assert_true(lsr & UART_LSR_TEMT);
	assert_false(lsr & UART_LSR_DR);
	/* Transmitting never leaves THR busy. */
	serial_write(&f->uart, UART_THR, 'x');
	lsr = serial_read(&f->uart, UART_LSR);
	assert_int_equal(lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	assert_false(f->irq);
}

static void test_transmit(void **state)
{
	struct fixture *f = *state;
	const char msg[] = "hello\n";

	for (size_t i = 0; i < strlen(msg); i++)
		serial_write(&f->uart, UART_THR, (uint8_t)msg[i]);
	assert_int_equal(f->ntx, strlen(msg));
	assert_memory_equal(f->tx, msg, strlen(msg));
}

static void test_dlab(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_IER, UART_IER_RDI);
	serial_write(&f->uart, UART_LCR, UART_LCR_DLAB | 0x03);
	serial_write(&f->uart, UART_DLL, 0x0c);
	serial_write(&f->uart, UART_DLM, 0x01);
	assert_int_equal(serial_read(&f->uart, UART_DLL), 0x0c);
	assert_int_equal(serial_read(&f->uart, UART_DLM), 0x01);
	assert_int_equal(serial_read(&f->uart, UART_LCR), UART_LCR_DLAB | 0x03);
	assert_int_equal(f->ntx, 0); /* the divisor write is not a transmit */
	serial_write(&f->uart, UART_LCR, 0x03);
	assert_int_equal(serial_read(&f->uart, UART_IER), UART_IER_RDI);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 0);
	serial_write(&f->uart, UART_THR, 'A');
	assert_int_equal(f->ntx, 1);
	/* The latch kept its value. */
	serial_write(&f->uart, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(serial_read(&f->uart, UART_DLL), 0x0c);
}

static void test_scratch(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_SCR, 0xa5);
	assert_int_equal(serial_read(&f->uart, UART_SCR), 0xa5);
	serial_write(&f->uart, UART_SCR, 0x5a);
	assert_int_equal(serial_read(&f->uart, UART_SCR), 0x5a);
}

static void test_thri(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Enabling THRI with THR empty raises it at once. */
	serial_write(&f->uart, UART_IER, UART_IER_THRI);
	assert_true(f->irq);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	/* That read acknowledged it. */
	assert_false(f->irq);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Each transmitted byte raises it again. */
	serial_write(&f->uart, UART_THR, 'z');
	assert_true(f->irq);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_false(f->irq);
	/* Disabled: no interrupt even when THR empties. */
	serial_write(&f->uart, UART_IER, 0);
	serial_write(&f->uart, UART_THR, 'z');
	assert_false(f->irq);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	assert_int_equal(serial_read(&f->uart, UART_IER), 0);
}

static void test_ier_mask(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_IER, 0xff);
	assert_int_equal(serial_read(&f->uart, UART_IER), 0x0f);
}

static void test_receive(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_IER, UART_IER_RDI);
	assert_false(f->irq);
	assert_int_equal(serial_receive(&f->uart, (const uint8_t *)"ab", 2), 2);
	assert_true(f->irq);
	assert_true(serial_read(&f->uart, UART_LSR) & UART_LSR_DR);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_RDI);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 'a');
	assert_true(f->irq);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 'b');
	assert_false(f->irq);
	assert_false(serial_read(&f->uart, UART_LSR) & UART_LSR_DR);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 0); /* empty */
}

static void test_rx_priority_over_thri(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_IER, UART_IER_RDI | UART_IER_THRI);
	serial_receive(&f->uart, (const uint8_t *)"q", 1);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_RDI);
	serial_read(&f->uart, UART_RBR);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_THRI);
}

static void test_rx_full(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[SERIAL_RX_BUF + 100];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	assert_int_equal(serial_receive(&f->uart, big, sizeof(big)), SERIAL_RX_BUF);
	assert_int_equal(serial_receive(&f->uart, big, 1), 0);
	assert_int_equal(f->space_calls, 0);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 0);
	assert_int_equal(f->space_calls, 1); /* room again */
	assert_int_equal(serial_receive(&f->uart, big + 7, 3), 1);
	/* FIFO order survives the wrap of the ring. */
	for (size_t i = 1; i < SERIAL_RX_BUF; i++)
		assert_int_equal(serial_read(&f->uart, UART_RBR), (uint8_t)i);
	assert_int_equal(serial_read(&f->uart, UART_RBR), 7);
	assert_false(serial_read(&f->uart, UART_LSR) & UART_LSR_DR);
	assert_int_equal(f->space_calls, 2);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	uint8_t msr;

	serial_write(&f->uart, UART_IER, UART_IER_RDI);
	serial_write(&f->uart, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	serial_write(&f->uart, UART_THR, 0x42);
	assert_int_equal(f->ntx, 0); /* not on the wire */
	assert_true(serial_read(&f->uart, UART_LSR) & UART_LSR_DR);
	assert_false(f->irq); /* interrupt line disconnected in loopback */
	assert_int_equal(serial_read(&f->uart, UART_RBR), 0x42);
	/* Host input is not received in loopback. */
	assert_int_equal(serial_receive(&f->uart, (const uint8_t *)"x", 1), 0);

	msr = serial_read(&f->uart, UART_MSR);
	assert_int_equal(msr & 0xf0, UART_MSR_DCD);
	serial_write(&f->uart, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0, UART_MSR_DSR);
	serial_write(&f->uart, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0, UART_MSR_CTS);
	serial_write(&f->uart, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0, UART_MSR_RI);
	serial_write(&f->uart, UART_MCR, 0xff);
	assert_int_equal(serial_read(&f->uart, UART_MCR), 0x1f);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0, 0xf0);
	/* Leaving loopback: modem status comes from the model again, output goes out. */
	serial_write(&f->uart, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0,
			 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	serial_write(&f->uart, UART_THR, 0x43);
	assert_int_equal(f->ntx, 1);
	assert_int_equal(f->tx[0], 0x43);
}

static void test_fifo(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0xc0, 0);
	serial_write(&f->uart, UART_FCR, UART_FCR_ENABLE_FIFO);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0xc0, UART_IIR_FIFO_ENABLED);
	assert_int_equal(serial_read(&f->uart, UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	/* Clearing the receive FIFO drops pending input. */
	serial_receive(&f->uart, (const uint8_t *)"abc", 3);
	serial_write(&f->uart, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	assert_false(serial_read(&f->uart, UART_LSR) & UART_LSR_DR);
	serial_write(&f->uart, UART_FCR, 0);
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0xc0, 0);
}

static void test_irq_follows_out2(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_IER, UART_IER_RDI);
	serial_receive(&f->uart, (const uint8_t *)"k", 1);
	assert_true(f->irq);
	serial_write(&f->uart, UART_MCR, 0); /* OUT2 off */
	assert_false(f->irq);
	/* IIR still reports it: only the line is gated. */
	assert_int_equal(serial_read(&f->uart, UART_IIR) & 0x0f, UART_IIR_RDI);
	serial_write(&f->uart, UART_MCR, UART_MCR_OUT2);
	assert_true(f->irq);
	serial_read(&f->uart, UART_RBR);
	assert_false(f->irq);
	assert_int_equal(f->irq_changes, 4);
}

static void test_read_only_and_unknown(void **state)
{
	struct fixture *f = *state;

	serial_write(&f->uart, UART_LSR, 0);
	assert_true(serial_read(&f->uart, UART_LSR) & UART_LSR_THRE);
	serial_write(&f->uart, UART_MSR, 0);
	assert_int_equal(serial_read(&f->uart, UART_MSR) & 0xf0,
			 UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	assert_int_equal(serial_read(&f->uart, 8), 0xff);
	serial_write(&f->uart, 99, 0x12);
	assert_int_equal(f->ntx, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_lsr_idle),	T(test_transmit),
		T(test_dlab),		T(test_scratch),
		T(test_thri),		T(test_ier_mask),
		T(test_receive),	T(test_rx_priority_over_thri),
		T(test_rx_full),	T(test_loopback),
		T(test_fifo),		T(test_irq_follows_out2),
		T(test_read_only_and_unknown),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
