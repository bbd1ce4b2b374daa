// SPDX-License-Identifier: Apache-2.0
/* Machine state streams: see base/state.h. */
#include "base/state.h"

#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_NULL_MARKER 0xffffffffu

void state_writer_init(struct state_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void state_writer_free(struct state_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

int state_writer_error(const struct state_writer *w)
{
	return w->err;
}

int state_writer_finish(const struct state_writer *w)
{
	if (w->err)
		return w->err;
	return w->depth ? -EINVAL : 0;
}

static uint8_t *writer_room(struct state_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap - w->len < n) {
			if (cap > SIZE_MAX / 2) {
				w->err = -ENOMEM;
				return NULL;
			}
			cap *= 2;
		}
		p = realloc(w->buf, cap);
		if (!p) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->buf = p;
		w->cap = cap;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_le(struct state_writer *w, uint64_t v, unsigned n)
{
	uint8_t *p = writer_room(w, n);

	if (!p)
		return;
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void state_put_u8(struct state_writer *w, uint8_t v)
{
	put_le(w, v, 1);
}

void state_put_u16(struct state_writer *w, uint16_t v)
{
	put_le(w, v, 2);
}

void state_put_u32(struct state_writer *w, uint32_t v)
{
	put_le(w, v, 4);
}

void state_put_u64(struct state_writer *w, uint64_t v)
{
	put_le(w, v, 8);
}

void state_put_bool(struct state_writer *w, bool v)
{
	put_le(w, v ? 1 : 0, 1);
}

void state_put_bytes(struct state_writer *w, const void *src, size_t n)
{
	uint8_t *p;

	if (!n)
		return;
	p = writer_room(w, n);
	if (p)
		memcpy(p, src, n);
}

void state_put_str(struct state_writer *w, const char *s)
{
	size_t n;

	if (!s) {
		state_put_u32(w, STR_NULL_MARKER);
		return;
	}
	n = strlen(s);
	if (n >= STR_NULL_MARKER) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	state_put_u32(w, (uint32_t)n);
	state_put_bytes(w, s, n);
}

void state_section_begin(struct state_writer *w, const char *name, uint32_t version)
{
	size_t n = strlen(name);

	if (n == 0 || n > STATE_NAME_MAX || w->depth >= STATE_MAX_DEPTH) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	state_put_u32(w, (uint32_t)n);
	state_put_bytes(w, name, n);
	state_put_u32(w, version);
	if (w->err)
		return;
	w->open[w->depth++] = w->len;
	state_put_u64(w, 0); /* patched by state_section_end */
}

void state_section_end(struct state_writer *w)
{
	size_t at, n;

	if (w->err)
		return;
	if (!w->depth) {
		w->err = -EINVAL;
		return;
	}
	at = w->open[--w->depth];
	n = w->len - at - 8;
	for (unsigned i = 0; i < 8; i++)
		w->buf[at + i] = (uint8_t)((uint64_t)n >> (8 * i));
}

void state_reader_init(struct state_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->err = 0;
	r->msg[0] = '\0';
}

int state_reader_error(const struct state_reader *r)
{
	return r->err;
}

const char *state_reader_msg(const struct state_reader *r)
{
	return r->msg;
}

void state_fail(struct state_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return;
	r->err = -EBADMSG;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

size_t state_remaining(const struct state_reader *r)
{
	return r->err ? 0 : r->len - r->pos;
}

int state_reader_finish(struct state_reader *r, const char *what)
{
	if (!r->err && r->pos != r->len)
		state_fail(r, "%zu bytes left over in %s", r->len - r->pos, what);
	return r->err;
}

const void *state_get_span(struct state_reader *r, size_t n)
{
	const void *p;

	if (r->err)
		return NULL;
	if (n > r->len - r->pos) {
		state_fail(r, "truncated: %zu bytes wanted at offset %zu, %zu there", n, r->pos,
			   r->len - r->pos);
		return NULL;
	}
	p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint64_t get_le(struct state_reader *r, unsigned n)
{
	const uint8_t *p = state_get_span(r, n);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t state_get_u8(struct state_reader *r)
{
	return (uint8_t)get_le(r, 1);
}

uint16_t state_get_u16(struct state_reader *r)
{
	return (uint16_t)get_le(r, 2);
}

uint32_t state_get_u32(struct state_reader *r)
{
	return (uint32_t)get_le(r, 4);
}

uint64_t state_get_u64(struct state_reader *r)
{
	return get_le(r, 8);
}

bool state_get_bool(struct state_reader *r)
{
	uint8_t v = state_get_u8(r);

	if (v > 1) {
		state_fail(r, "boolean of value %u at offset %zu", v, r->pos - 1);
		return false;
	}
	return v;
}

uint8_t state_get_u8_max(struct state_reader *r, uint8_t max, const char *what)
{
	uint8_t v = state_get_u8(r);

	if (v > max) {
		state_fail(r, "%s %u out of range (max %u)", what, v, max);
		return 0;
	}
	return v;
}

uint32_t state_get_u32_max(struct state_reader *r, uint32_t max, const char *what)
{
	uint32_t v = state_get_u32(r);

	if (v > max) {
		state_fail(r, "%s is %u, at most %u", what, v, max);
		return 0;
	}
	return v;
}

uint64_t state_get_u64_max(struct state_reader *r, uint64_t max, const char *what)
{
	uint64_t v = state_get_u64(r);

	if (v > max) {
		state_fail(r, "%s is %llu, at most %llu", what, (unsigned long long)v,
			   (unsigned long long)max);
		return 0;
	}
	return v;
}

void state_get_bytes(struct state_reader *r, void *dst, size_t n)
{
	const void *p = state_get_span(r, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

bool state_get_str(struct state_reader *r, char *dst, size_t cap)
{
	uint32_t n = state_get_u32(r);
	const char *p;

	if (cap)
		dst[0] = '\0';
	if (r->err || n == STR_NULL_MARKER)
		return false;
	if (cap == 0 || n > cap - 1) {
		state_fail(r, "string of %u bytes, at most %zu", n, cap ? cap - 1 : 0);
		return false;
	}
	p = state_get_span(r, n);
	if (!p)
		return false;
	if (memchr(p, '\0', n)) {
		state_fail(r, "string with a NUL byte at offset %zu", r->pos - n);
		return false;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

int state_next_section(struct state_reader *r, char name[STATE_NAME_MAX + 1], uint32_t *version,
		       struct state_reader *sub)
{
	uint32_t n;
	uint64_t len;
	const char *p;
	const void *body;

	if (r->err)
		return r->err;
	if (r->pos == r->len)
		return 0;
	n = state_get_u32(r);
	if (!r->err && (n == 0 || n > STATE_NAME_MAX))
		state_fail(r, "section name of %u bytes at offset %zu", n, r->pos - 4);
	p = state_get_span(r, n);
	if (p && memchr(p, '\0', n))
		state_fail(r, "section name with a NUL byte");
	*version = state_get_u32(r);
	len = state_get_u64(r);
	if (r->err)
		return r->err;
	body = state_get_span(r, len > SIZE_MAX ? SIZE_MAX : (size_t)len);
	if (!body) {
		state_fail(r, "section %.*s truncated", (int)n, p);
		return r->err;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	state_reader_init(sub, body, (size_t)len);
	return 1;
}

int state_find_section(const struct state_reader *r, const char *name, uint32_t *version,
		       struct state_reader *sub)
{
	struct state_reader it;
	char got[STATE_NAME_MAX + 1];
	int ret;

	state_reader_init(&it, r->p, r->len);
	while ((ret = state_next_section(&it, got, version, sub)) == 1) {
		if (strcmp(got, name) == 0)
			return 0;
	}
	return ret ? ret : -ENOENT;
}

uint64_t state_crc64(const void *p, size_t n, uint64_t crc)
{
	return lzma_crc64(p, n, crc);
}
