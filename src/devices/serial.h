/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 16550A UART model. The register model (serial_read/serial_write) is
 * independent of KVM so it can be unit tested and fuzzed; the device glue
 * puts COM1 at 0x3f8, IRQ 4, on the VM's console.
 */
#ifndef OSPREY_DEVICES_SERIAL_H
#define OSPREY_DEVICES_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_RX_BUF 1024

#define UART_RBR 0
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IER_RLSI 0x04
#define UART_IER_MSI 0x08
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO_ENABLED 0xc0
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_LCR_DLAB 0x80
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, iir_thri_pending, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	uint8_t rx[SERIAL_RX_BUF];
	size_t rx_head, rx_count;
	bool irq_level;
	/* Output of transmitted bytes and the interrupt line. */
	void (*tx)(void *opaque, uint8_t byte);
	void (*set_irq)(void *opaque, bool level);
	void (*rx_space)(void *opaque); /* room again after the buffer was full */
	void *opaque;
};

void serial_init(struct serial *s);
uint8_t serial_read(struct serial *s, unsigned offset);
void serial_write(struct serial *s, unsigned offset, uint8_t value);
/* Host input; returns the number of bytes accepted. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct serial), section
 * "serial.0" for COM1, version SERIAL_STATE_VERSION: u8 ier,
 * iir_thri_pending, fcr, lcr, mcr, lsr, msr, scr, dll, dlm, then u32 n
 * and the n received bytes the guest has not read (oldest first). IIR
 * and the interrupt line follow from these; resumed() raises the line
 * again when they say so. Transmitted bytes leave at once: none wait.
 */
#define SERIAL_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops serial_state_ops;

#endif
