/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Machine state as a byte stream: what snapshots (snapshot/) and live
 * migration (migration/) carry, and what every stateful part of the
 * machine (vCPUs, interrupt controllers, devices) writes and reads.
 *
 * The encoding is explicit, field by field, little-endian, never a raw
 * struct: a state written by one build reads on another, and a hostile
 * or corrupt stream is data to validate, not memory to trust.
 *
 * Writer: a growable buffer. An allocation failure is sticky: later puts
 * do nothing and state_writer_error() reports -ENOMEM once at the end.
 *
 * Reader: a bounded cursor over bytes. Every get is checked; the first
 * problem (truncation, a value out of range, a bad string) is sticky:
 * later gets return 0 and state_reader_error() returns -EBADMSG with a
 * message naming what was wrong. Callers read all fields, then check the
 * error once, and use nothing they read unless it is 0.
 *
 * Sections: a named, versioned, length-prefixed run of bytes
 *   u32 name_len | name | u32 version | u64 length | bytes
 * so that a reader can find a part by name, skip what it does not know,
 * and tell a part of another version or with bytes left over.
 */
#ifndef OSPREY_BASE_STATE_H
#define OSPREY_BASE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest section name, without the NUL ("virtio-blk.rootfs", "vcpu.3"). */
#define STATE_NAME_MAX 63
#define STATE_ERR_MAX 192
#define STATE_MAX_DEPTH 8

struct state_writer {
	uint8_t *buf;
	size_t len, cap;
	int err; /* 0 or -ENOMEM */
	size_t open[STATE_MAX_DEPTH]; /* offsets of the length fields of open sections */
	unsigned depth;
};

void state_writer_init(struct state_writer *w);
void state_writer_free(struct state_writer *w);
/*
 * 0, or -ENOMEM / -EINVAL after any failure so far; callable inside an
 * open section (a device's save returns it).
 */
int state_writer_error(const struct state_writer *w);
/* state_writer_error, and -EINVAL if a section is still open: call once at the end. */
int state_writer_finish(const struct state_writer *w);

void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bool(struct state_writer *w, bool v);
void state_put_bytes(struct state_writer *w, const void *p, size_t n);
/* u32 length, then the bytes (no NUL); NULL is written as length 0xffffffff. */
void state_put_str(struct state_writer *w, const char *s);

/* Opens section `name` (<= STATE_NAME_MAX bytes) of `version`; nests up to STATE_MAX_DEPTH. */
void state_section_begin(struct state_writer *w, const char *name, uint32_t version);
void state_section_end(struct state_writer *w);

struct state_reader {
	const uint8_t *p;
	size_t len, pos;
	int err; /* 0 or -EBADMSG */
	char msg[STATE_ERR_MAX];
};

void state_reader_init(struct state_reader *r, const void *buf, size_t len);
/* 0 or -EBADMSG; state_reader_msg() says why ("" when fine). */
int state_reader_error(const struct state_reader *r);
const char *state_reader_msg(const struct state_reader *r);
/* Marks the reader failed (the first failure wins). printf-style. */
void state_fail(struct state_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bytes not read yet. */
size_t state_remaining(const struct state_reader *r);
/* Fails unless every byte was read ("N bytes left over in <what>"). */
int state_reader_finish(struct state_reader *r, const char *what);

uint8_t state_get_u8(struct state_reader *r);
uint16_t state_get_u16(struct state_reader *r);
uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
/* Fails on anything but 0 or 1. */
bool state_get_bool(struct state_reader *r);
/* A u8 / u32 / u64 that must be <= max; `what` names it in the error. */
uint8_t state_get_u8_max(struct state_reader *r, uint8_t max, const char *what);
uint32_t state_get_u32_max(struct state_reader *r, uint32_t max, const char *what);
uint64_t state_get_u64_max(struct state_reader *r, uint64_t max, const char *what);
void state_get_bytes(struct state_reader *r, void *dst, size_t n);
/* Points at the next n bytes without copying; NULL (and failed) if short. */
const void *state_get_span(struct state_reader *r, size_t n);
/*
 * A string of at most cap-1 bytes with no NUL inside, NUL-terminated into
 * dst. Returns false for the NULL marker (dst = "") or on failure.
 */
bool state_get_str(struct state_reader *r, char *dst, size_t cap);

/*
 * The next section: its name, version and a reader over its bytes; the
 * outer reader moves past it. 1: got one, 0: no bytes left, -EBADMSG:
 * malformed (r failed).
 */
int state_next_section(struct state_reader *r, char name[STATE_NAME_MAX + 1], uint32_t *version,
		       struct state_reader *sub);
/*
 * Finds section `name` anywhere among r's top-level sections (from the
 * start, r itself is not moved). 0 and sub set, -ENOENT, or -EBADMSG.
 */
int state_find_section(const struct state_reader *r, const char *name, uint32_t *version,
		       struct state_reader *sub);

/* CRC-64/XZ (ECMA-182 polynomial, as xz uses), through liblzma. crc: 0 to start. */
uint64_t state_crc64(const void *p, size_t n, uint64_t crc);

#endif
