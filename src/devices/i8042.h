/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i8042 keyboard controller, enough for Linux's i8042/atkbd drivers: the
 * command byte, self tests, a keyboard that answers its commands, reset
 * through the controller (command 0xFE, or output-port bit 0 cleared) as
 * the guest's reboot, and Ctrl-Alt-Del injection.
 */
#ifndef OSPREY_DEVICES_I8042_H
#define OSPREY_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define I8042_BUF 16

#define I8042_STATUS_OBF 0x01
#define I8042_STATUS_SYS 0x04
#define I8042_STATUS_CMD 0x08
#define I8042_STATUS_AUXDATA 0x20

#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;	    /* controller command byte */
	uint8_t status;
	uint8_t pending_cmd; /* controller command waiting for its data byte */
	uint8_t kbd_pending; /* keyboard command waiting for its data byte */
	uint8_t buf[I8042_BUF];
	size_t head, count;
	bool irq_level;
	void (*set_irq)(void *opaque, bool level);
	void (*reset)(void *opaque);
	void *opaque;
};

void i8042_init(struct i8042 *k);
uint8_t i8042_read(struct i8042 *k, unsigned port);
void i8042_write(struct i8042 *k, unsigned port, uint8_t value);
/* Queues Ctrl, Alt, Del make and break codes for the guest. */
void i8042_ctrl_alt_del(struct i8042 *k);

/*
 * Snapshot state (hw/device_state.h; opaque: the struct i8042), section
 * "i8042", version I8042_STATE_VERSION: u8 command byte, status,
 * pending controller command, pending keyboard command, then u32 n and
 * the n bytes of the output buffer queue (oldest first). resumed() raises
 * the keyboard interrupt again when the queue and command byte say so.
 */
#define I8042_STATE_VERSION 1
struct device_state_ops;
extern const struct device_state_ops i8042_state_ops;

#endif
