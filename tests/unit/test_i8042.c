// SPDX-License-Identifier: Apache-2.0
/* devices/i8042: the keyboard controller model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"

#define DATA 0x60
#define CMD 0x64

struct fixture {
	struct i8042 kbc;
	bool irq;
	unsigned irq_changes;
	unsigned resets;
};

static void fx_irq(void *opaque, bool level)
{
	struct fixture *f = opaque;

	f->irq = level;
	f->irq_changes++;
}

static void fx_reset(void *opaque)
{
	struct fixture *f = opaque;

	f->resets++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	i8042_init(&f->kbc);
	f->kbc.set_irq = fx_irq;
	f->kbc.reset = fx_reset;
	f->kbc.opaque = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pthread_mutex_destroy(&f->kbc.lock);
	free(f);
	return 0;
}

static bool obf(struct fixture *f)
{
	return i8042_read(&f->kbc, CMD) & I8042_STATUS_OBF;
}

static void test_status_idle(void **state)
{
	struct fixture *f = *state;
	uint8_t st = i8042_read(&f->kbc, CMD);

	assert_false(st & I8042_STATUS_OBF);
	assert_true(st & I8042_STATUS_SYS);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0); /* nothing queued */
	assert_false(f->irq);
}

static void test_self_test(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0xaa);
	assert_true(obf(f));
	assert_true(i8042_read(&f->kbc, CMD) & I8042_STATUS_CMD);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x55);
	assert_false(obf(f));
	i8042_write(&f->kbc, CMD, 0xab); /* keyboard interface test */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x00);
	i8042_write(&f->kbc, CMD, 0xa9); /* aux interface test: absent */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xff);
}

static void test_command_byte(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0x20);
	assert_int_equal(i8042_read(&f->kbc, DATA),
			 I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE);
	i8042_write(&f->kbc, CMD, 0x60);
	i8042_write(&f->kbc, DATA, 0x65);
	assert_false(i8042_read(&f->kbc, CMD) & I8042_STATUS_CMD);
	i8042_write(&f->kbc, CMD, 0x20);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x65);
	/* Disable/enable commands edit it. */
	i8042_write(&f->kbc, CMD, 0xad);
	i8042_write(&f->kbc, CMD, 0xa7);
	i8042_write(&f->kbc, CMD, 0x20);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x65 | I8042_CTR_KBDDIS | I8042_CTR_AUXDIS);
	i8042_write(&f->kbc, CMD, 0xae);
	i8042_write(&f->kbc, CMD, 0xa8);
	i8042_write(&f->kbc, CMD, 0x20);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x65 & ~(I8042_CTR_KBDDIS | I8042_CTR_AUXDIS));
}

static void test_keyboard_reset(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, DATA, 0xff);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xaa);
	assert_false(obf(f));
	assert_int_equal(f->resets, 0); /* the keyboard, not the CPU */
}

static void test_keyboard_commands(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, DATA, 0xf2); /* identify */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xab);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x83);
	i8042_write(&f->kbc, DATA, 0xed); /* LEDs, then their data byte */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
	i8042_write(&f->kbc, DATA, 0xff); /* the data byte, not a reset */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
	assert_false(obf(f));
	i8042_write(&f->kbc, DATA, 0xee); /* echo */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xee);
	i8042_write(&f->kbc, DATA, 0xf4); /* enable */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
}

static void test_reset_pulse(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0xfe);
	assert_int_equal(f->resets, 1);
	/* No callback set: nothing happens, nothing crashes. */
	f->kbc.reset = NULL;
	i8042_write(&f->kbc, CMD, 0xfe);
	assert_int_equal(f->resets, 1);
}

static void test_output_port(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0xd1);
	i8042_write(&f->kbc, DATA, 0x03); /* bit 0 set: CPU keeps running */
	assert_int_equal(f->resets, 0);
	i8042_write(&f->kbc, CMD, 0xd1);
	i8042_write(&f->kbc, DATA, 0xfe); /* bit 0 clear: reset */
	assert_int_equal(f->resets, 1);
	/* Without the 0xd1 prefix the same byte goes to the keyboard. */
	i8042_write(&f->kbc, DATA, 0xfe);
	assert_int_equal(f->resets, 1);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xfa);
}

static void test_write_output_buffers(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0xd2);
	i8042_write(&f->kbc, DATA, 0x1c);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x1c);
	i8042_write(&f->kbc, CMD, 0xd4); /* to the (absent) aux device: swallowed */
	i8042_write(&f->kbc, DATA, 0xff);
	assert_false(obf(f));
}

static void test_ctrl_alt_del_set1(void **state)
{
	static const uint8_t expect[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	struct fixture *f = *state;

	i8042_ctrl_alt_del(&f->kbc);
	assert_true(f->irq);
	for (size_t i = 0; i < sizeof(expect); i++) {
		assert_true(obf(f));
		assert_int_equal(i8042_read(&f->kbc, DATA), expect[i]);
	}
	assert_false(obf(f));
	assert_false(f->irq);
}

static void test_ctrl_alt_del_set2(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0x60);
	i8042_write(&f->kbc, DATA, I8042_CTR_KBDINT); /* no XLATE */
	i8042_ctrl_alt_del(&f->kbc);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x14); /* Ctrl make, set 2 */
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x11);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0xe0);
	assert_int_equal(i8042_read(&f->kbc, DATA), 0x71);
}

static void test_irq_level(void **state)
{
	struct fixture *f = *state;

	i8042_write(&f->kbc, CMD, 0xaa);
	assert_true(f->irq);
	i8042_read(&f->kbc, DATA);
	assert_false(f->irq);
	/* KBDINT off in the command byte: data queued, line low. */
	i8042_write(&f->kbc, CMD, 0x60);
	i8042_write(&f->kbc, DATA, I8042_CTR_XLATE);
	i8042_write(&f->kbc, CMD, 0xaa);
	assert_true(obf(f));
	assert_false(f->irq);
	/* Turning it back on raises the line for the queued byte. */
	i8042_write(&f->kbc, CMD, 0x60);
	i8042_write(&f->kbc, DATA, I8042_CTR_XLATE | I8042_CTR_KBDINT);
	assert_true(f->irq);
	assert_int_equal(f->irq_changes, 3);
}

static void test_buffer_full(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < I8042_BUF + 5; i++)
		i8042_write(&f->kbc, CMD, 0xaa);
	for (int i = 0; i < I8042_BUF; i++)
		assert_int_equal(i8042_read(&f->kbc, DATA), 0x55);
	assert_false(obf(f));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_status_idle),	   T(test_self_test),
		T(test_command_byte),	   T(test_keyboard_reset),
		T(test_keyboard_commands), T(test_reset_pulse),
		T(test_output_port),	   T(test_write_output_buffers),
		T(test_ctrl_alt_del_set1), T(test_ctrl_alt_del_set2),
		T(test_irq_level),	   T(test_buffer_full),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
