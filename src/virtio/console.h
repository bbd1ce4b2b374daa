/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.x, section 5.3), one port, no multiport: the
 * guest's hvc0 on the host console, for --console virtio.
 *
 * transmitq (1): every device-readable byte of a request goes to the
 * console output, at most VIRTIO_CONSOLE_TX_MAX bytes per request (the
 * rest is dropped and counted).
 *
 * receiveq (0): host input arrives through the console sink (on the main
 * thread) into a VIRTIO_CONSOLE_RX_BUF-byte buffer, and the device's I/O
 * thread moves it into the guest's receive buffers. While the guest has
 * posted no buffers the bytes stay pending; when the buffer is full the
 * sink accepts less and the console pauses stdin until the next receiveq
 * kick makes room (console_sink_ready).
 */
#ifndef OSPREY_VIRTIO_CONSOLE_H
#define OSPREY_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "virtio/mmio.h"

struct device_console;

#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_CONSOLE_F_SIZE 0
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1
#define VIRTIO_CONSOLE_RX_BUF 4096
#define VIRTIO_CONSOLE_TX_MAX (64 * 1024)

struct virtio_console {
	struct virtio_dev *d;
	const struct device_console *con; /* host console: output, input back-pressure */
	uint16_t cols, rows;
	/*
	 * Host input not yet in a guest buffer: a ring under rx_lock (not
	 * d->lock, which a blocked console write may hold: the sink runs on
	 * the main loop, which must never wait for the guest's output).
	 * Lock order: d->lock, then rx_lock.
	 */
	pthread_mutex_t rx_lock;
	uint8_t rx[VIRTIO_CONSOLE_RX_BUF];
	size_t rx_head, rx_count;
	bool host_waiting; /* the sink refused bytes; tell the console when there is room */
	int rx_efd;	   /* the sink wakes the I/O thread here (-1: none) */
	struct virtq_elem elem;
	uint64_t rx_bytes, tx_bytes, tx_dropped;
};

/*
 * The device model without KVM or threads, for unit tests and fuzzing:
 * the ops table, a state for it (rx_efd -1; free it with ops->destroy),
 * and the console sink (opaque: the struct virtio_dev).
 */
extern const struct virtio_dev_ops virtio_console_ops;
struct virtio_console *virtio_console_alloc(const struct device_console *con);
size_t virtio_console_sink(void *opaque, const uint8_t *buf, size_t len);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct virtio_dev),
 * section "virtio-console", version VIRTIO_CONSOLE_STATE_VERSION: the
 * transport (virtio/mmio.h), u16 cols, u16 rows, u32 n and the n bytes of
 * host input not yet delivered to the guest (oldest first). Output is
 * written to the console as it is taken off the ring, so none is pending;
 * a refused host write (host_waiting) is not state: the new console's
 * input starts unpaused.
 */
#define VIRTIO_CONSOLE_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops virtio_console_state_ops;

#endif
