/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The migration stream (docs/migration.md): records of
 *
 *   u32 type | u32 flags | u64 length | payload (length bytes) | u64 CRC-64
 *
 * little-endian, the CRC (state_crc64) over header and payload. Each
 * type has a largest length; an unknown type, a record out of order, a
 * length over its bound or a bad CRC ends the stream with one error.
 * Records are read from a socket (with a timeout) or from memory (the
 * fuzz target).
 */
#ifndef OSPREY_MIGRATION_STREAM_H
#define OSPREY_MIGRATION_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mig_rec_type {
	MIG_REC_HELLO = 1,  /* src->dest: magic, version, CPU template, RAM and page size */
	MIG_REC_CONFIG = 2, /* src->dest: vm_config_write() bytes */
	MIG_REC_PAGES = 3,  /* src->dest: u32 count, count x (u64 mapping offset, page) */
	MIG_REC_STATE = 4,  /* src->dest: vm_state_save() bytes */
	MIG_REC_DONE = 5,   /* src->dest: nothing more */
	MIG_REC_READY = 6,  /* dest->src: the machine is loaded */
	MIG_REC_GO = 7,	    /* src->dest: the source has stopped; run */
	MIG_REC_ERROR = 8,  /* either way: text */
};

#define MIG_MAGIC 0x3147494d5250534fULL /* "OSPRMIG1" */
#define MIG_PROTO_VERSION 1
#define MIG_PAGE_SIZE 4096u
#define MIG_PAGES_MAX 256u
#define MIG_HDR_LEN 16u
#define MIG_CPU_NAME_MAX 32u
#define MIG_HELLO_MAX 256u
#define MIG_CONFIG_MAX (1u << 20)
#define MIG_PAGES_LEN_MAX (4u + MIG_PAGES_MAX * (8u + MIG_PAGE_SIZE))
#define MIG_STATE_MAX (32u << 20)
#define MIG_ERROR_MAX 1024u

/* Longest payload of type; 0 for an unknown type (and for payload-less ones). */
uint64_t mig_rec_max_len(uint32_t type);
const char *mig_rec_name(uint32_t type);

struct mig_reader {
	int fd;		/* -1: read from mem */
	int timeout_ms; /* per wait for bytes on fd */
	const volatile int *cancel; /* optional: stop waiting when it becomes non-zero */
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	uint8_t *buf; /* the current record's payload (owned) */
	size_t cap;
};

struct mig_rec {
	uint32_t type, flags;
	uint64_t len;
	const uint8_t *payload; /* in the reader's buffer, valid until the next read */
};

void mig_reader_init_fd(struct mig_reader *r, int fd, int timeout_ms);
void mig_reader_init_mem(struct mig_reader *r, const void *p, size_t len);
void mig_reader_free(struct mig_reader *r);

/*
 * The next record. 0, -ECONNRESET (the peer closed: "connection closed
 * by the peer"), -ETIMEDOUT, -ECANCELED or -EBADMSG (malformed); a
 * message in err. Payload and CRC are checked here; the payload's own
 * content is not.
 */
int mig_read_record(struct mig_reader *r, struct mig_rec *rec, char *err, size_t errlen);

/*
 * Sends one record (header, payload, CRC) with MSG_NOSIGNAL, waiting at
 * most timeout_ms for the socket to take each part. 0 or -errno.
 */
int mig_send_record(int fd, uint32_t type, const void *payload, size_t len, int timeout_ms,
		    const volatile int *cancel);
/* An ERROR record, best effort (a short timeout, errors ignored). */
void mig_send_error(int fd, const char *msg);

/* The receiving side's order: HELLO, CONFIG, PAGES*, STATE, DONE. */
struct mig_order {
	int step; /* 0 nothing yet, 1 HELLO, 2 CONFIG or PAGES, 3 STATE, 4 DONE */
};
/* 0 or -EBADMSG ("unexpected X record after Y") when rec type cannot come now. */
int mig_order_check(struct mig_order *o, uint32_t type, char *err, size_t errlen);

struct mig_hello {
	uint64_t magic;
	uint32_t version;
	uint32_t page_size;
	uint64_t ram_size;
	char cpu_template[MIG_CPU_NAME_MAX];
};

/* HELLO payload: u64 magic, u32 version, u32 page size, u64 RAM size, str template. */
size_t mig_hello_encode(const struct mig_hello *h, uint8_t *out, size_t cap);
/* Parses and checks magic, version and page size. 0 or -EBADMSG / -EPROTO. */
int mig_hello_parse(const uint8_t *p, size_t len, struct mig_hello *h, char *err, size_t errlen);

/*
 * Copies a PAGES payload into ram (mapping order, ram_size bytes): every
 * offset page-aligned and inside, the count <= MIG_PAGES_MAX and the
 * length exactly 4 + count * 4104. *npages: pages copied. 0 or -EBADMSG.
 * Nothing is copied unless the whole payload is valid.
 */
int mig_pages_apply(const uint8_t *p, size_t len, uint8_t *ram, uint64_t ram_size,
		    uint64_t *npages, char *err, size_t errlen);

/* Little-endian helpers. */
void mig_put_u32(uint8_t *p, uint32_t v);
void mig_put_u64(uint8_t *p, uint64_t v);
uint32_t mig_get_u32(const uint8_t *p);
uint64_t mig_get_u64(const uint8_t *p);

#endif
