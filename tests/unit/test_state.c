// SPDX-License-Identifier: Apache-2.0
/*
 * base/state: field round trips, the sticky reader and writer errors,
 * truncation at every offset, bad booleans, strings and sections, nested
 * sections, CRC-64.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/state.h"

/* One stream with every kind of field. */
static void write_sample(struct state_writer *w)
{
	static const uint8_t blob[5] = { 1, 2, 3, 4, 5 };

	state_put_u8(w, 0xab);
	state_put_u16(w, 0xbeef);
	state_put_u32(w, 0xdeadbeef);
	state_put_u64(w, 0x0123456789abcdefULL);
	state_put_bool(w, true);
	state_put_bool(w, false);
	state_put_bytes(w, blob, sizeof(blob));
	state_put_str(w, "hello");
	state_put_str(w, NULL);
	state_put_str(w, "");
}

/* Reads write_sample's stream; returns the reader's error. */
static int read_sample(const void *buf, size_t len, bool check)
{
	struct state_reader r;
	uint8_t blob[5];
	char s[16];
	bool got;

	state_reader_init(&r, buf, len);
	uint8_t a = state_get_u8(&r);
	uint16_t b = state_get_u16(&r);
	uint32_t c = state_get_u32(&r);
	uint64_t d = state_get_u64(&r);
	bool t = state_get_bool(&r), f = state_get_bool(&r);

	state_get_bytes(&r, blob, sizeof(blob));
	got = state_get_str(&r, s, sizeof(s));
	if (check && !r.err) {
		assert_true(got);
		assert_string_equal(s, "hello");
	}
	got = state_get_str(&r, s, sizeof(s));
	if (check && !r.err) {
		assert_false(got); /* NULL marker */
		assert_string_equal(s, "");
	}
	got = state_get_str(&r, s, sizeof(s));
	if (check && !r.err) {
		assert_true(got);
		assert_string_equal(s, "");
	}
	state_reader_finish(&r, "sample");
	if (check) {
		assert_int_equal(r.err, 0);
		assert_int_equal(a, 0xab);
		assert_int_equal(b, 0xbeef);
		assert_int_equal(c, 0xdeadbeef);
		assert_true(d == 0x0123456789abcdefULL);
		assert_true(t);
		assert_false(f);
		assert_memory_equal(blob, ((const uint8_t[]){ 1, 2, 3, 4, 5 }), 5);
	}
	return r.err;
}

static void test_round_trip(void **state)
{
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	write_sample(&w);
	assert_int_equal(state_writer_error(&w), 0);
	/* Little-endian, field by field. */
	assert_int_equal(w.buf[0], 0xab);
	assert_int_equal(w.buf[1], 0xef);
	assert_int_equal(w.buf[2], 0xbe);
	assert_int_equal(read_sample(w.buf, w.len, true), 0);
	state_writer_free(&w);
}

static void test_truncated_everywhere(void **state)
{
	struct state_writer w;

	(void)state;
	state_writer_init(&w);
	write_sample(&w);
	for (size_t n = 0; n < w.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, w.buf, n);
		assert_int_equal(read_sample(copy, n, false), -EBADMSG);
		free(copy);
	}
	state_writer_free(&w);
}

static void test_sticky_and_zero(void **state)
{
	struct state_reader r;
	uint8_t one = 7;

	(void)state;
	state_reader_init(&r, &one, 1);
	assert_int_equal(state_get_u32(&r), 0);
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "truncated"));
	/* Later gets return 0 even though a byte is there. */
	assert_int_equal(state_get_u8(&r), 0);
	assert_int_equal(state_remaining(&r), 0);
	/* The first failure wins. */
	state_fail(&r, "second");
	assert_null(strstr(state_reader_msg(&r), "second"));
}

static void test_left_over(void **state)
{
	uint8_t buf[3] = { 0 };
	struct state_reader r;

	(void)state;
	state_reader_init(&r, buf, sizeof(buf));
	state_get_u16(&r);
	assert_int_equal(state_reader_finish(&r, "thing"), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "1 bytes left over in thing"));
}

static void test_bad_bool(void **state)
{
	uint8_t v = 2;
	struct state_reader r;

	(void)state;
	state_reader_init(&r, &v, 1);
	assert_false(state_get_bool(&r));
	assert_int_equal(state_reader_error(&r), -EBADMSG);
}

static void test_max(void **state)
{
	struct state_writer w;
	struct state_reader r;

	(void)state;
	state_writer_init(&w);
	state_put_u32(&w, 9);
	state_put_u64(&w, 100);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_get_u32_max(&r, 9, "a"), 9);
	assert_int_equal(state_get_u64_max(&r, 99, "b"), 0);
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	assert_non_null(strstr(state_reader_msg(&r), "b is 100"));
	state_writer_free(&w);
}

static void test_bad_strings(void **state)
{
	struct state_writer w;
	struct state_reader r;
	char s[4];

	(void)state;
	/* Too long for the buffer. */
	state_writer_init(&w);
	state_put_str(&w, "four");
	state_reader_init(&r, w.buf, w.len);
	assert_false(state_get_str(&r, s, sizeof(s)));
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	state_writer_free(&w);

	/* A NUL inside. */
	state_writer_init(&w);
	state_put_u32(&w, 3);
	state_put_bytes(&w, "a\0b", 3);
	state_reader_init(&r, w.buf, w.len);
	assert_false(state_get_str(&r, s, sizeof(s)));
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	state_writer_free(&w);

	/* A length past the end. */
	state_writer_init(&w);
	state_put_u32(&w, 0x7fffffff);
	state_reader_init(&r, w.buf, w.len);
	assert_false(state_get_str(&r, s, sizeof(s)));
	assert_int_equal(state_reader_error(&r), -EBADMSG);
	state_writer_free(&w);
}

static void test_sections_nested(void **state)
{
	struct state_writer w;
	struct state_reader r, a, b, c;
	char name[STATE_NAME_MAX + 1];
	uint32_t version;

	(void)state;
	state_writer_init(&w);
	state_section_begin(&w, "outer", 3);
	state_put_u32(&w, 11);
	state_section_begin(&w, "inner", 4);
	state_put_u16(&w, 22);
	state_section_end(&w);
	state_section_end(&w);
	state_section_begin(&w, "second", 1);
	state_put_u8(&w, 33);
	state_section_end(&w);
	assert_int_equal(state_writer_error(&w), 0);

	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_next_section(&r, name, &version, &a), 1);
	assert_string_equal(name, "outer");
	assert_int_equal(version, 3);
	assert_int_equal(state_get_u32(&a), 11);
	assert_int_equal(state_next_section(&a, name, &version, &b), 1);
	assert_string_equal(name, "inner");
	assert_int_equal(version, 4);
	assert_int_equal(state_get_u16(&b), 22);
	assert_int_equal(state_reader_finish(&b, "inner"), 0);
	assert_int_equal(state_next_section(&a, name, &version, &b), 0);
	assert_int_equal(state_next_section(&r, name, &version, &a), 1);
	assert_string_equal(name, "second");
	assert_int_equal(state_next_section(&r, name, &version, &a), 0);

	/* Found by name from anywhere, the outer reader unmoved. */
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_find_section(&r, "second", &version, &c), 0);
	assert_int_equal(state_get_u8(&c), 33);
	assert_int_equal(r.pos, 0);
	assert_int_equal(state_find_section(&r, "inner", &version, &c), -ENOENT);
	state_writer_free(&w);
}

static void test_section_writer_errors(void **state)
{
	struct state_writer w;
	char longname[STATE_NAME_MAX + 2];

	(void)state;
	state_writer_init(&w);
	state_section_begin(&w, "open", 1);
	assert_int_equal(state_writer_error(&w), -EINVAL); /* unbalanced */
	state_writer_free(&w);

	state_writer_init(&w);
	state_section_end(&w);
	assert_int_equal(state_writer_error(&w), -EINVAL);
	state_writer_free(&w);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	state_writer_init(&w);
	state_section_begin(&w, longname, 1);
	assert_int_equal(state_writer_error(&w), -EINVAL);
	state_writer_free(&w);

	state_writer_init(&w);
	for (int i = 0; i <= STATE_MAX_DEPTH; i++)
		state_section_begin(&w, "d", 1);
	assert_int_equal(state_writer_error(&w), -EINVAL);
	state_writer_free(&w);
}

static void test_bad_sections(void **state)
{
	struct state_writer w;
	struct state_reader r, sub;
	char name[STATE_NAME_MAX + 1];
	uint32_t version;

	(void)state;
	/* Empty name. */
	state_writer_init(&w);
	state_put_u32(&w, 0);
	state_put_u32(&w, 1);
	state_put_u64(&w, 0);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_next_section(&r, name, &version, &sub), -EBADMSG);
	state_writer_free(&w);

	/* A name with a NUL. */
	state_writer_init(&w);
	state_put_u32(&w, 2);
	state_put_bytes(&w, "a\0", 2);
	state_put_u32(&w, 1);
	state_put_u64(&w, 0);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_next_section(&r, name, &version, &sub), -EBADMSG);
	state_writer_free(&w);

	/* Length beyond the stream (and a huge one). */
	state_writer_init(&w);
	state_put_u32(&w, 1);
	state_put_bytes(&w, "a", 1);
	state_put_u32(&w, 1);
	state_put_u64(&w, UINT64_MAX);
	state_reader_init(&r, w.buf, w.len);
	assert_int_equal(state_next_section(&r, name, &version, &sub), -EBADMSG);
	assert_int_equal(state_find_section(&r, "a", &version, &sub), -EBADMSG);
	state_writer_free(&w);

	/* Truncated at every offset of a good section list. */
	state_writer_init(&w);
	state_section_begin(&w, "one", 1);
	state_put_u64(&w, 5);
	state_section_end(&w);
	state_section_begin(&w, "two", 2);
	state_section_end(&w);
	for (size_t n = 1; n < w.len; n++) {
		size_t first = 4 + 3 + 4 + 8 + 8; /* a cut right after "one" is a whole list */
		int ret;

		if (n == first)
			continue;

		state_reader_init(&r, w.buf, n);
		while ((ret = state_next_section(&r, name, &version, &sub)) == 1)
			;
		assert_int_equal(ret, -EBADMSG);
	}
	state_writer_free(&w);
}

static void test_crc64(void **state)
{
	(void)state;
	/* CRC-64/XZ check value. */
	assert_true(state_crc64("123456789", 9, 0) == 0x995dc9bbdf1939faULL);
	/* Incremental equals whole. */
	assert_true(state_crc64("6789", 4, state_crc64("12345", 5, 0)) ==
		    0x995dc9bbdf1939faULL);
	assert_true(state_crc64("", 0, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_sticky_and_zero),
		cmocka_unit_test(test_left_over),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_max),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_sections_nested),
		cmocka_unit_test(test_section_writer_errors),
		cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_crc64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
