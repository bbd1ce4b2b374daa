// SPDX-License-Identifier: Apache-2.0
/*
 * migration/stream: records sent over a socket pair and read back, every
 * truncation and every flipped bit of a small stream rejected, length
 * bounds, record order, HELLO parsing, PAGES bounds, endpoint URIs,
 * read timeouts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "migration/net.h"
#include "migration/stream.h"

/* Builds a stream of HELLO, CONFIG("abc"), STATE("xy"), DONE into a malloc'd buffer. */
static uint8_t *sample_stream(size_t *len)
{
	int sv[2];
	uint8_t hello[MIG_HELLO_MAX], *buf = malloc(4096);
	struct mig_hello h = { .magic = MIG_MAGIC,
			       .version = MIG_PROTO_VERSION,
			       .page_size = MIG_PAGE_SIZE,
			       .ram_size = 1 << 20,
			       .cpu_template = "soft" };
	size_t hl = mig_hello_encode(&h, hello, sizeof(hello));
	ssize_t n;

	assert_non_null(buf);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(mig_send_record(sv[0], MIG_REC_HELLO, hello, hl, 1000, NULL), 0);
	assert_int_equal(mig_send_record(sv[0], MIG_REC_CONFIG, "abc", 3, 1000, NULL), 0);
	assert_int_equal(mig_send_record(sv[0], MIG_REC_STATE, "xy", 2, 1000, NULL), 0);
	assert_int_equal(mig_send_record(sv[0], MIG_REC_DONE, NULL, 0, 1000, NULL), 0);
	close(sv[0]);
	n = read(sv[1], buf, 4096);
	assert_true(n > 0);
	close(sv[1]);
	*len = (size_t)n;
	return buf;
}

/* Reads every record; 0 when HELLO, CONFIG, STATE, DONE came whole and in order. */
static int parse_all(const uint8_t *p, size_t len)
{
	struct mig_reader r;
	struct mig_rec rec;
	struct mig_order o = { 0 };
	struct mig_hello h;
	char err[256];
	int ret, n = 0;

	mig_reader_init_mem(&r, p, len);
	while (!(ret = mig_read_record(&r, &rec, err, sizeof(err)))) {
		ret = mig_order_check(&o, rec.type, err, sizeof(err));
		if (!ret && rec.type == MIG_REC_HELLO)
			ret = mig_hello_parse(rec.payload, (size_t)rec.len, &h, err, sizeof(err));
		if (ret)
			break;
		n++;
		if (rec.type == MIG_REC_DONE)
			break;
	}
	mig_reader_free(&r);
	if (ret)
		return ret;
	return n == 4 ? 0 : -EBADMSG;
}

static void test_round_trip(void **state)
{
	struct mig_reader r;
	struct mig_rec rec;
	struct mig_hello h;
	char err[256];
	size_t len;
	uint8_t *s = sample_stream(&len);

	(void)state;
	mig_reader_init_mem(&r, s, len);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.type, MIG_REC_HELLO);
	assert_int_equal(mig_hello_parse(rec.payload, (size_t)rec.len, &h, err, sizeof(err)), 0);
	assert_string_equal(h.cpu_template, "soft");
	assert_int_equal(h.ram_size, 1 << 20);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.type, MIG_REC_CONFIG);
	assert_int_equal(rec.len, 3);
	assert_memory_equal(rec.payload, "abc", 3);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.type, MIG_REC_STATE);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), 0);
	assert_int_equal(rec.type, MIG_REC_DONE);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -ECONNRESET);
	mig_reader_free(&r);
	assert_int_equal(parse_all(s, len), 0);
	free(s);
}

static void test_every_truncation_and_bit_flip(void **state)
{
	size_t len;
	uint8_t *s = sample_stream(&len);

	(void)state;
	assert_int_equal(parse_all(s, len), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(parse_all(s, cut), 0);
	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			s[i] ^= (uint8_t)(1u << b);
			assert_int_not_equal(parse_all(s, len), 0);
			s[i] ^= (uint8_t)(1u << b);
		}
	}
	free(s);
}

static void test_length_bounds_and_unknown_type(void **state)
{
	uint8_t hdr[MIG_HDR_LEN + 8];
	struct mig_reader r;
	struct mig_rec rec;
	char err[256];

	(void)state;
	mig_put_u32(hdr, MIG_REC_PAGES);
	mig_put_u32(hdr + 4, 0);
	mig_put_u64(hdr + 8, MIG_PAGES_LEN_MAX + 1);
	mig_reader_init_mem(&r, hdr, sizeof(hdr));
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "at most"));
	mig_reader_free(&r);
	mig_put_u32(hdr, MIG_REC_DONE);
	mig_put_u64(hdr + 8, 1);
	mig_reader_init_mem(&r, hdr, sizeof(hdr));
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -EBADMSG);
	mig_reader_free(&r);
	mig_put_u32(hdr, 99);
	mig_put_u64(hdr + 8, 0);
	mig_reader_init_mem(&r, hdr, sizeof(hdr));
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unknown record type 99"));
	mig_reader_free(&r);
}

static void test_order(void **state)
{
	struct mig_order o = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(mig_order_check(&o, MIG_REC_CONFIG, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_HELLO, err, sizeof(err)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_HELLO, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_CONFIG, err, sizeof(err)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, err, sizeof(err)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, err, sizeof(err)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_DONE, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_STATE, err, sizeof(err)), 0);
	assert_int_equal(mig_order_check(&o, MIG_REC_PAGES, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_READY, err, sizeof(err)), -EBADMSG);
	assert_int_equal(mig_order_check(&o, MIG_REC_DONE, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "READY"));
}

static void test_hello_checks(void **state)
{
	struct mig_hello h = { .magic = MIG_MAGIC,
			       .version = MIG_PROTO_VERSION,
			       .page_size = MIG_PAGE_SIZE,
			       .ram_size = 1 << 20,
			       .cpu_template = "host" }, out;
	uint8_t b[MIG_HELLO_MAX];
	char err[256];
	size_t n;

	(void)state;
	n = mig_hello_encode(&h, b, sizeof(b));
	assert_int_equal(mig_hello_parse(b, n, &out, err, sizeof(err)), 0);
	assert_int_equal(mig_hello_parse(b, n - 1, &out, err, sizeof(err)), -EBADMSG);
	h.version = 2;
	n = mig_hello_encode(&h, b, sizeof(b));
	assert_int_equal(mig_hello_parse(b, n, &out, err, sizeof(err)), -EPROTO);
	h.version = MIG_PROTO_VERSION;
	h.magic = 1;
	n = mig_hello_encode(&h, b, sizeof(b));
	assert_int_equal(mig_hello_parse(b, n, &out, err, sizeof(err)), -EBADMSG);
	h.magic = MIG_MAGIC;
	h.ram_size = 4095;
	n = mig_hello_encode(&h, b, sizeof(b));
	assert_int_equal(mig_hello_parse(b, n, &out, err, sizeof(err)), -EBADMSG);
	h.ram_size = 1 << 20;
	n = mig_hello_encode(&h, b, sizeof(b));
	mig_put_u32(b + 24, 0xffffffff); /* name length */
	assert_int_equal(mig_hello_parse(b, n, &out, err, sizeof(err)), -EBADMSG);
}

static void test_pages_bounds(void **state)
{
	static uint8_t ram[4 * MIG_PAGE_SIZE];
	uint8_t *p = calloc(1, 4 + 2 * (8 + MIG_PAGE_SIZE));
	uint64_t n;
	char err[256];
	size_t len = 4 + 2 * (8 + MIG_PAGE_SIZE);

	(void)state;
	assert_non_null(p);
	mig_put_u32(p, 2);
	mig_put_u64(p + 4, 0);
	memset(p + 12, 0xaa, MIG_PAGE_SIZE);
	mig_put_u64(p + 12 + MIG_PAGE_SIZE, 3 * MIG_PAGE_SIZE);
	memset(p + 20 + MIG_PAGE_SIZE, 0xbb, MIG_PAGE_SIZE);
	assert_int_equal(mig_pages_apply(p, len, ram, sizeof(ram), &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ram[0], 0xaa);
	assert_int_equal(ram[sizeof(ram) - 1], 0xbb);
	/* Outside RAM: nothing copied, not even the first page. */
	memset(ram, 0, sizeof(ram));
	mig_put_u64(p + 12 + MIG_PAGE_SIZE, 4 * MIG_PAGE_SIZE);
	assert_int_equal(mig_pages_apply(p, len, ram, sizeof(ram), &n, err, sizeof(err)), -EBADMSG);
	assert_int_equal(ram[0], 0);
	mig_put_u64(p + 12 + MIG_PAGE_SIZE, UINT64_MAX - 4095);
	assert_int_equal(mig_pages_apply(p, len, ram, sizeof(ram), &n, err, sizeof(err)), -EBADMSG);
	mig_put_u64(p + 12 + MIG_PAGE_SIZE, 100); /* unaligned */
	assert_int_equal(mig_pages_apply(p, len, ram, sizeof(ram), &n, err, sizeof(err)), -EBADMSG);
	mig_put_u64(p + 12 + MIG_PAGE_SIZE, 0);
	mig_put_u32(p, 3); /* count does not match the length */
	assert_int_equal(mig_pages_apply(p, len, ram, sizeof(ram), &n, err, sizeof(err)), -EBADMSG);
	mig_put_u32(p, 0);
	assert_int_equal(mig_pages_apply(p, 4, ram, sizeof(ram), &n, err, sizeof(err)), -EBADMSG);
	free(p);
}

static void test_uris_and_timeout(void **state)
{
	char err[256];
	struct mig_reader r;
	struct mig_rec rec;
	int sv[2];

	(void)state;
	assert_int_equal(mig_uri_check("unix:/tmp/x", err, sizeof(err)), 0);
	assert_int_equal(mig_uri_check("tcp:127.0.0.1:4444", err, sizeof(err)), 0);
	assert_int_equal(mig_uri_check("tcp:[::1]:4444", err, sizeof(err)), 0);
	assert_int_equal(mig_uri_check("tcp:127.0.0.1", err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_uri_check("unix:", err, sizeof(err)), -EINVAL);
	assert_int_equal(mig_uri_check("ftp:x", err, sizeof(err)), -EINVAL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	mig_reader_init_fd(&r, sv[1], 50);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -ETIMEDOUT);
	close(sv[0]);
	assert_int_equal(mig_read_record(&r, &rec, err, sizeof(err)), -ECONNRESET);
	mig_reader_free(&r);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_truncation_and_bit_flip),
		cmocka_unit_test(test_length_bounds_and_unknown_type),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_hello_checks),
		cmocka_unit_test(test_pages_bounds),
		cmocka_unit_test(test_uris_and_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
