// SPDX-License-Identifier: Apache-2.0
/* vmm/console: Ctrl-A escape filtering of terminal input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/serial.h"
#include "vmm/console.h"

/* console.c pulls in vm.c; see test_cli.c. */
void (*volatile unit_keep_device)(struct serial *) = serial_init;

#define ESC "\x01"

struct result {
	uint8_t buf[64];
	size_t len;
	enum console_action action;
};

static struct result filter(bool *saw_escape, const char *in, size_t len)
{
	struct result r;

	assert_true(len <= sizeof(r.buf));
	memcpy(r.buf, in, len);
	r.action = (enum console_action)-1;
	r.len = console_filter_input(saw_escape, r.buf, len, &r.action);
	return r;
}

#define FILTER(esc, lit) filter(esc, lit, sizeof(lit) - 1)

static void test_plain_input(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, "ls -l\r");

	(void)state;
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.buf, "ls -l\r", 6);
	assert_int_equal(r.action, CONSOLE_ACT_NONE);
	assert_false(esc);
	r = FILTER(&esc, "");
	assert_int_equal(r.len, 0);
	assert_int_equal(r.action, CONSOLE_ACT_NONE);
}

static void test_quit(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, "ab" ESC "xcd");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_QUIT);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.buf, "abcd", 4);
	assert_false(esc);
	r = FILTER(&esc, ESC "X");
	assert_int_equal(r.action, CONSOLE_ACT_QUIT);
	assert_int_equal(r.len, 0);
}

static void test_ctrl_alt_del(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, ESC "d");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_CAD);
	assert_int_equal(r.len, 0);
	r = FILTER(&esc, "q" ESC "D");
	assert_int_equal(r.action, CONSOLE_ACT_CAD);
	assert_int_equal(r.len, 1);
	assert_int_equal(r.buf[0], 'q');
}

static void test_help(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, ESC "h");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_HELP);
	assert_int_equal(r.len, 0);
	r = FILTER(&esc, ESC "?");
	assert_int_equal(r.action, CONSOLE_ACT_HELP);
	r = FILTER(&esc, ESC "H");
	assert_int_equal(r.action, CONSOLE_ACT_HELP);
}

static void test_literal_ctrl_a(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, "a" ESC ESC "b");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_NONE);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.buf, "a" ESC "b", 3);
	assert_false(esc);
	/* Three in a row: one literal, then a pending escape. */
	r = FILTER(&esc, ESC ESC ESC);
	assert_int_equal(r.len, 1);
	assert_int_equal(r.buf[0], 0x01);
	assert_true(esc);
}

static void test_unknown_escape_swallowed(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, "a" ESC "zb" ESC "\r" "c");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_NONE);
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.buf, "abc", 3);
	assert_false(esc);
}

static void test_escape_split(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, "ab" ESC);

	(void)state;
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, "ab", 2);
	assert_int_equal(r.action, CONSOLE_ACT_NONE);
	assert_true(esc); /* remembered for the next read */
	r = FILTER(&esc, "xyz");
	assert_int_equal(r.action, CONSOLE_ACT_QUIT);
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, "yz", 2);
	assert_false(esc);
	/* Split literal Ctrl-A. */
	r = FILTER(&esc, ESC);
	assert_int_equal(r.len, 0);
	r = FILTER(&esc, ESC "k");
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, ESC "k", 2);
	/* An empty read keeps the pending escape. */
	r = FILTER(&esc, ESC);
	r = FILTER(&esc, "");
	assert_true(esc);
	r = FILTER(&esc, "d");
	assert_int_equal(r.action, CONSOLE_ACT_CAD);
}

static void test_first_action_wins(void **state)
{
	bool esc = false;
	struct result r = FILTER(&esc, ESC "d" ESC "x" ESC "h" "ok");

	(void)state;
	assert_int_equal(r.action, CONSOLE_ACT_CAD);
	/* The later escapes are still consumed, not passed to the guest. */
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.buf, "ok", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_input),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_ctrl_alt_del),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_literal_ctrl_a),
		cmocka_unit_test(test_unknown_escape_swallowed),
		cmocka_unit_test(test_escape_split),
		cmocka_unit_test(test_first_action_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
