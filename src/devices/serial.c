// SPDX-License-Identifier: Apache-2.0
#include "devices/serial.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ 4

void serial_init(struct serial *s)
{
	pthread_mutex_init(&s->lock, NULL);
	s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
	s->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	s->iir_thri_pending = 0;
	s->mcr = UART_MCR_OUT2;
}

/* Highest-priority pending interrupt, as IIR reports it. */
static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & UART_FCR_ENABLE_FIFO) ? UART_IIR_FIFO_ENABLED : 0;

	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->iir_thri_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & UART_IIR_NO_INT);

	/* OUT2 gates the interrupt line on PC-compatible boards. */
	if (!(s->mcr & UART_MCR_OUT2) || (s->mcr & UART_MCR_LOOP))
		level = false;
	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->set_irq)
			s->set_irq(s->opaque, level);
	}
}

static void serial_rx_push(struct serial *s, uint8_t b)
{
	if (s->rx_count == SERIAL_RX_BUF)
		return; /* overrun: dropped, as real hardware does */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_BUF] = b;
	s->rx_count++;
}

static uint8_t serial_msr_loop(const struct serial *s)
{
	uint8_t msr = 0;

	if (s->mcr & UART_MCR_DTR)
		msr |= UART_MSR_DSR;
	if (s->mcr & UART_MCR_RTS)
		msr |= UART_MSR_CTS;
	if (s->mcr & UART_MCR_OUT1)
		msr |= UART_MSR_RI;
	if (s->mcr & UART_MCR_OUT2)
		msr |= UART_MSR_DCD;
	return msr;
}

uint8_t serial_read(struct serial *s, unsigned offset)
{
	uint8_t v = 0xff;
	bool notify_space = false;

	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_RBR:
		if (s->lcr & UART_LCR_DLAB) {
			v = s->dll;
			break;
		}
		v = 0;
		if (s->rx_count) {
			notify_space = s->rx_count == SERIAL_RX_BUF;
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_BUF;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = serial_iir(s);
		/* Reading IIR while it reports THRE clears that interrupt. */
		if ((v & 0x0f) == UART_IIR_THRI)
			s->iir_thri_pending = 0;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_THRE | UART_LSR_TEMT | (s->rx_count ? UART_LSR_DR : 0);
		break;
	case UART_MSR:
		v = (s->mcr & UART_MCR_LOOP) ? serial_msr_loop(s) : s->msr;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	default:
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (notify_space && s->rx_space)
		s->rx_space(s->opaque);
	return v;
}

void serial_write(struct serial *s, unsigned offset, uint8_t value)
{
	bool transmit = false;

	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case UART_THR:
		if (s->lcr & UART_LCR_DLAB) {
			s->dll = value;
			break;
		}
		if (s->mcr & UART_MCR_LOOP)
			serial_rx_push(s, value);
		else
			transmit = true;
		/* The byte leaves at once, so THR is empty again. */
		s->iir_thri_pending = 1;
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB) {
			s->dlm = value;
			break;
		}
		/* Enabling THRI with an empty THR raises it immediately. */
		if (!(s->ier & UART_IER_THRI) && (value & UART_IER_THRI))
			s->iir_thri_pending = 1;
		s->ier = value & 0x0f;
		break;
	case UART_FCR:
		s->fcr = value & UART_FCR_ENABLE_FIFO;
		if (value & UART_FCR_CLEAR_RCVR) {
			s->rx_head = 0;
			s->rx_count = 0;
		}
		break;
	case UART_LCR:
		s->lcr = value;
		break;
	case UART_MCR:
		s->mcr = value & 0x1f;
		break;
	case UART_SCR:
		s->scr = value;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	/* Output outside the lock: a slow console never blocks register access. */
	if (transmit && s->tx)
		s->tx(s->opaque, value);
}

size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & UART_MCR_LOOP)) {
		while (n < len && s->rx_count < SERIAL_RX_BUF)
			serial_rx_push(s, buf[n++]);
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- snapshots ---- */

static int serial_state_save(void *opaque, struct state_writer *w)
{
	struct serial *s = opaque;
	size_t first;

	pthread_mutex_lock(&s->lock);
	state_put_u8(w, s->ier);
	state_put_u8(w, s->iir_thri_pending);
	state_put_u8(w, s->fcr);
	state_put_u8(w, s->lcr);
	state_put_u8(w, s->mcr);
	state_put_u8(w, s->lsr);
	state_put_u8(w, s->msr);
	state_put_u8(w, s->scr);
	state_put_u8(w, s->dll);
	state_put_u8(w, s->dlm);
	state_put_u32(w, (uint32_t)s->rx_count);
	first = SERIAL_RX_BUF - s->rx_head;
	if (first > s->rx_count)
		first = s->rx_count;
	state_put_bytes(w, s->rx + s->rx_head, first);
	state_put_bytes(w, s->rx, s->rx_count - first);
	pthread_mutex_unlock(&s->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int serial_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct serial *s = opaque;
	uint8_t ier, thri, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	const void *rx;
	uint32_t n;

	ier = state_get_u8(r);
	thri = state_get_u8(r);
	fcr = state_get_u8(r);
	lcr = state_get_u8(r);
	mcr = state_get_u8(r);
	lsr = state_get_u8(r);
	msr = state_get_u8(r);
	scr = state_get_u8(r);
	dll = state_get_u8(r);
	dlm = state_get_u8(r);
	n = state_get_u32_max(r, SERIAL_RX_BUF, "serial receive buffer");
	rx = state_get_span(r, n);
	/* What the register writes can never produce. */
	if (!state_reader_error(r) && ((ier & ~0x0f) || thri > 1 || (fcr & ~UART_FCR_ENABLE_FIFO) ||
				       (mcr & ~0x1f)))
		state_fail(r, "serial: impossible registers IER 0x%02x FCR 0x%02x MCR 0x%02x", ier,
			   fcr, mcr);
	if (!state_reader_error(r))
		state_reader_finish(r, "serial state");
	if (state_reader_error(r)) {
		snprintf(err, errlen, "%s", state_reader_msg(r));
		return -EBADMSG;
	}
	pthread_mutex_lock(&s->lock);
	s->ier = ier;
	s->iir_thri_pending = thri;
	s->fcr = fcr;
	s->lcr = lcr;
	s->mcr = mcr;
	s->lsr = lsr;
	s->msr = msr;
	s->scr = scr;
	s->dll = dll;
	s->dlm = dlm;
	if (n)
		memcpy(s->rx, rx, n);
	s->rx_head = 0;
	s->rx_count = n;
	s->irq_level = false; /* the line is raised again on resume */
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void serial_state_resumed(void *opaque)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct device_state_ops serial_state_ops = {
	.version = SERIAL_STATE_VERSION,
	.save = serial_state_save,
	.load = serial_state_load,
	.resumed = serial_state_resumed,
};

/* ---- device glue: COM1 ---- */

struct serial_dev {
	struct serial uart;
	const struct device_env *env;
};

static void com1_tx(void *opaque, uint8_t byte)
{
	struct serial_dev *d = opaque;

	/* With --console virtio the console belongs to hvc0: COM1 goes nowhere. */
	if (!d->env->cfg.console_virtio)
		d->env->console.write(d->env->console.opaque, &byte, 1);
}

static void com1_set_irq(void *opaque, bool level)
{
	struct serial_dev *d = opaque;

	d->env->irq_line(d->env->machine, COM1_IRQ, level);
}

static void com1_rx_space(void *opaque)
{
	struct serial_dev *d = opaque;

	d->env->console.sink_ready(d->env->console.opaque);
}

static size_t com1_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial_dev *d = opaque;

	return serial_receive(&d->uart, buf, len);
}

static void com1_pio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct serial_dev *d = opaque;

	memset(data, 0, len);
	data[0] = serial_read(&d->uart, (unsigned)offset);
}

static void com1_pio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct serial_dev *d = opaque;

	(void)len;
	serial_write(&d->uart, (unsigned)offset, data[0]);
}

static const struct bus_ops com1_ops = {
	.read = com1_pio_read,
	.write = com1_pio_write,
};

static int com1_create(const struct device_env *env)
{
	struct serial_dev *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	serial_init(&d->uart);
	d->env = env;
	d->uart.tx = com1_tx;
	d->uart.set_irq = com1_set_irq;
	d->uart.rx_space = com1_rx_space;
	d->uart.opaque = d;
	ret = bus_register(env->pio, COM1_PORT, 8, "serial-com1", &com1_ops, d);
	if (ret) {
		free(d);
		return ret;
	}
	ret = env->add_cleanup(env->machine, free, d);
	if (ret)
		return ret;
	if (env->register_state) {
		ret = env->register_state(env->machine, "serial.0", &serial_state_ops, &d->uart);
		if (ret) {
			log_errx("serial", "cannot register state handler serial.0");
			return ret;
		}
	}
	if (!env->cfg.console_virtio)
		env->console.set_sink(env->console.opaque, com1_sink, d);
	return 0;
}

static const struct device_desc serial_com1_device = {
	.name = "serial-com1",
	.create = com1_create,
};
DEVICE_REGISTER(serial_com1_device);
