/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot/ internals shared by its files, its unit tests and its fuzz
 * target: the state file's framing and its "memory" section.
 */
#ifndef OSPREY_SNAPSHOT_SNAPSHOT_INT_H
#define OSPREY_SNAPSHOT_SNAPSHOT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/state.h"
#include "snapshot/snapshot.h"

/* magic, u32 version, u32 type, u64 body length */
#define SNAPSHOT_HEADER_BYTES 24
#define SNAPSHOT_TRAILER_BYTES 8
/* Largest state file read (the bitmap of 1 TiB of RAM is 32 MiB). */
#define SNAPSHOT_FILE_MAX (256ULL << 20)
#define SNAPSHOT_MEMORY_VERSION 1

/*
 * Frames body as a state file of type t into *out (malloc'ed, *outlen
 * bytes): header, body, CRC-64. -ENOMEM.
 */
int snapshot_file_build(enum snapshot_type t, const void *body, size_t body_len, uint8_t **out,
			size_t *outlen);

/* Section "memory": ram_size, page size, and a Diff's bitmap (bits NULL for a Full). */
void snapshot_memory_write(struct state_writer *w, uint64_t ram_size, const uint64_t *bits,
			   size_t nwords);

struct snapshot_memory {
	uint64_t ram_size;
	uint64_t *bits; /* malloc'ed, NULL for a Full snapshot */
	size_t nwords;
};

/*
 * Reads section "memory" of a verified body (f->type decides whether a
 * bitmap must be there). 0 or -EBADMSG with a message in err.
 */
int snapshot_memory_read(const struct snapshot_file *f, struct snapshot_memory *m, char *err,
			 size_t errlen);
void snapshot_memory_free(struct snapshot_memory *m);

/* Words of the bitmap of ram_size bytes (one bit per 4 KiB page). */
size_t snapshot_bitmap_words(uint64_t ram_size);

#endif
