// SPDX-License-Identifier: Apache-2.0
#include "devices/i8042.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_IRQ 1

void i8042_init(struct i8042 *k)
{
	pthread_mutex_init(&k->lock, NULL);
	k->ctr = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE;
	k->status = I8042_STATUS_SYS;
}

static void i8042_update_irq(struct i8042 *k)
{
	bool level = k->count && (k->ctr & I8042_CTR_KBDINT);

	if (level != k->irq_level) {
		k->irq_level = level;
		if (k->set_irq)
			k->set_irq(k->opaque, level);
	}
}

static void i8042_push(struct i8042 *k, uint8_t b)
{
	if (k->count == I8042_BUF)
		return;
	k->buf[(k->head + k->count) % I8042_BUF] = b;
	k->count++;
}

static void i8042_kbd_command(struct i8042 *k, uint8_t v)
{
	if (k->kbd_pending) {
		/* Data byte of LED/rate/scancode-set commands: acknowledge. */
		k->kbd_pending = 0;
		i8042_push(k, 0xfa);
		return;
	}
	switch (v) {
	case 0xed: /* set LEDs */
	case 0xf3: /* typematic rate */
	case 0xf0: /* scancode set */
		k->kbd_pending = v;
		i8042_push(k, 0xfa);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		i8042_push(k, 0xfa);
		i8042_push(k, 0xab);
		i8042_push(k, 0x83);
		break;
	case 0xff: /* reset and self test */
		i8042_push(k, 0xfa);
		i8042_push(k, 0xaa);
		break;
	case 0xee: /* echo */
		i8042_push(k, 0xee);
		break;
	default: /* enable, disable, defaults, ...: acknowledge */
		i8042_push(k, 0xfa);
		break;
	}
}

uint8_t i8042_read(struct i8042 *k, unsigned port)
{
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD) {
		v = k->status | (k->count ? I8042_STATUS_OBF : 0);
	} else {
		v = 0;
		if (k->count) {
			v = k->buf[k->head];
			k->head = (k->head + 1) % I8042_BUF;
			k->count--;
		}
		i8042_update_irq(k);
	}
	pthread_mutex_unlock(&k->lock);
	return v;
}

void i8042_write(struct i8042 *k, unsigned port, uint8_t v)
{
	bool reset = false;

	pthread_mutex_lock(&k->lock);
	if (port == I8042_CMD) {
		k->status |= I8042_STATUS_CMD;
		switch (v) {
		case 0x20: /* read command byte */
			i8042_push(k, k->ctr);
			break;
		case 0x60: /* write command byte */
		case 0xd1: /* write output port */
		case 0xd2: /* write keyboard output buffer */
		case 0xd3: /* write aux output buffer */
		case 0xd4: /* write to aux device */
			k->pending_cmd = v;
			break;
		case 0xa7:
			k->ctr |= I8042_CTR_AUXDIS;
			break;
		case 0xa8:
			k->ctr &= (uint8_t)~I8042_CTR_AUXDIS;
			break;
		case 0xa9: /* aux interface test: no aux port */
			i8042_push(k, 0xff);
			break;
		case 0xaa: /* controller self test */
			i8042_push(k, 0x55);
			break;
		case 0xab: /* keyboard interface test */
			i8042_push(k, 0x00);
			break;
		case 0xad:
			k->ctr |= I8042_CTR_KBDDIS;
			break;
		case 0xae:
			k->ctr &= (uint8_t)~I8042_CTR_KBDDIS;
			break;
		case 0xfe: /* pulse the reset line */
			reset = true;
			break;
		default:
			break;
		}
	} else {
		k->status &= (uint8_t)~I8042_STATUS_CMD;
		switch (k->pending_cmd) {
		case 0x60:
			k->ctr = v;
			break;
		case 0xd1:
			if (!(v & 1)) /* output port bit 0 is the CPU reset line */
				reset = true;
			break;
		case 0xd2:
		case 0xd3:
			i8042_push(k, v);
			break;
		case 0xd4: /* aux device absent */
			break;
		default:
			i8042_kbd_command(k, v);
			break;
		}
		k->pending_cmd = 0;
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}

void i8042_ctrl_alt_del(struct i8042 *k)
{
	/* Scancode set 1 when the controller translates, set 2 otherwise. */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71,
					0xf0, 0x11, 0xf0, 0x14 };
	const uint8_t *codes;
	size_t n;

	pthread_mutex_lock(&k->lock);
	if (k->ctr & I8042_CTR_XLATE) {
		codes = set1;
		n = sizeof(set1);
	} else {
		codes = set2;
		n = sizeof(set2);
	}
	for (size_t i = 0; i < n; i++)
		i8042_push(k, codes[i]);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

/* ---- snapshots ---- */

static int i8042_state_save(void *opaque, struct state_writer *w)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	state_put_u8(w, k->ctr);
	state_put_u8(w, k->status);
	state_put_u8(w, k->pending_cmd);
	state_put_u8(w, k->kbd_pending);
	state_put_u32(w, (uint32_t)k->count);
	for (size_t i = 0; i < k->count; i++)
		state_put_u8(w, k->buf[(k->head + i) % I8042_BUF]);
	pthread_mutex_unlock(&k->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static bool i8042_cmd_known(uint8_t cmd)
{
	return cmd == 0 || cmd == 0x60 || (cmd >= 0xd1 && cmd <= 0xd4);
}

static bool i8042_kbd_cmd_known(uint8_t cmd)
{
	return cmd == 0 || cmd == 0xed || cmd == 0xf3 || cmd == 0xf0;
}

static int i8042_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct i8042 *k = opaque;
	uint8_t ctr, status, cmd, kbd, buf[I8042_BUF];
	uint32_t n;

	ctr = state_get_u8(r);
	status = state_get_u8(r);
	cmd = state_get_u8(r);
	kbd = state_get_u8(r);
	n = state_get_u32_max(r, I8042_BUF, "i8042 output queue");
	state_get_bytes(r, buf, n);
	if (!state_reader_error(r) &&
	    ((status & ~(I8042_STATUS_SYS | I8042_STATUS_CMD)) || !i8042_cmd_known(cmd) ||
	     !i8042_kbd_cmd_known(kbd)))
		state_fail(r, "i8042: impossible status 0x%02x or pending commands 0x%02x/0x%02x",
			   status, cmd, kbd);
	if (!state_reader_error(r))
		state_reader_finish(r, "i8042 state");
	if (state_reader_error(r)) {
		snprintf(err, errlen, "%s", state_reader_msg(r));
		return -EBADMSG;
	}
	pthread_mutex_lock(&k->lock);
	k->ctr = ctr;
	k->status = status;
	k->pending_cmd = cmd;
	k->kbd_pending = kbd;
	memcpy(k->buf, buf, n);
	k->head = 0;
	k->count = n;
	k->irq_level = false; /* raised again on resume */
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_state_resumed(void *opaque)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

const struct device_state_ops i8042_state_ops = {
	.version = I8042_STATE_VERSION,
	.save = i8042_state_save,
	.load = i8042_state_load,
	.resumed = i8042_state_resumed,
};

/* ---- device glue ---- */

struct i8042_dev {
	struct i8042 kbc;
	const struct device_env *env;
};

static void i8042_dev_irq(void *opaque, bool level)
{
	struct i8042_dev *d = opaque;

	d->env->irq_line(d->env->machine, I8042_IRQ, level);
}

static void i8042_dev_reset(void *opaque)
{
	struct i8042_dev *d = opaque;

	log_info("i8042", "guest reset the CPU through the keyboard controller");
	d->env->request_exit(d->env->machine, DEVICE_EXIT_REBOOT);
}

static void i8042_dev_cad(void *opaque)
{
	struct i8042_dev *d = opaque;

	log_info("i8042", "sending Ctrl-Alt-Del to the guest");
	i8042_ctrl_alt_del(&d->kbc);
}

#define I8042_PIO_HANDLERS(name, port)                                                   \
	static void i8042_##name##_read(void *opaque, uint64_t offset, uint8_t *data,     \
					unsigned len)                                     \
	{                                                                                 \
		struct i8042_dev *d = opaque;                                             \
		(void)offset;                                                             \
		memset(data, 0, len);                                                     \
		data[0] = i8042_read(&d->kbc, port);                                      \
	}                                                                                 \
	static void i8042_##name##_write(void *opaque, uint64_t offset, const uint8_t *data, \
					 unsigned len)                                    \
	{                                                                                 \
		struct i8042_dev *d = opaque;                                             \
		(void)offset;                                                             \
		(void)len;                                                                \
		i8042_write(&d->kbc, port, data[0]);                                      \
	}                                                                                 \
	static const struct bus_ops i8042_##name##_ops = {                                \
		.read = i8042_##name##_read,                                              \
		.write = i8042_##name##_write,                                            \
	}

I8042_PIO_HANDLERS(data, I8042_DATA);
I8042_PIO_HANDLERS(cmd, I8042_CMD);

static int i8042_create(const struct device_env *env)
{
	struct i8042_dev *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	i8042_init(&d->kbc);
	d->env = env;
	d->kbc.set_irq = i8042_dev_irq;
	d->kbc.reset = i8042_dev_reset;
	d->kbc.opaque = d;
	/* 0x60 data and 0x64 command/status: two one-byte ranges. */
	ret = bus_register(env->pio, I8042_DATA, 1, "i8042-data", &i8042_data_ops, d);
	if (!ret)
		ret = bus_register(env->pio, I8042_CMD, 1, "i8042-cmd", &i8042_cmd_ops, d);
	if (ret) {
		free(d);
		return ret;
	}
	ret = env->add_cleanup(env->machine, free, d);
	if (ret)
		return ret;
	if (env->register_state) {
		ret = env->register_state(env->machine, "i8042", &i8042_state_ops, &d->kbc);
		if (ret) {
			log_errx("i8042", "cannot register state handler i8042");
			return ret;
		}
	}
	if (env->set_ctrl_alt_del)
		env->set_ctrl_alt_del(env->machine, i8042_dev_cad, d);
	return 0;
}

static const struct device_desc i8042_device = {
	.name = "i8042",
	.create = i8042_create,
};
DEVICE_REGISTER(i8042_device);
