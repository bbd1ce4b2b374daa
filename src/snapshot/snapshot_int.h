/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot/ internals shared by its files, its unit tests and its fuzz
 * target: the state file's framing and its "memory" section.
 */
#ifndef OSPREY_SNAPSHOT_SNAPSHOT_INT_H
#define OSPREY_SNAPSHOT_SNAPSHOT_INT_H

#include <stdbool.h>
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

#define SNAPSHOT_ID_BYTES 16

/*
 * Section "memory": ram_size, page size, the id of the memory file that
 * goes with the state (id NULL: zeros), and a Diff's bitmap (bits NULL
 * for a Full).
 */
void snapshot_memory_write(struct state_writer *w, uint64_t ram_size, const uint8_t *id,
			   const uint64_t *bits, size_t nwords);

/*
 * The memory file's trailer, one page at offset ram_size (after the
 * RAM, never mapped): "OSPRMEM1", the snapshot id, ram_size (u64 LE),
 * CRC-64 of those 32 bytes, zeros. A state file names the memory file
 * it was written with by that id, so that a state and a memory file of
 * different snapshots (a crash between the two renames, a wrong path,
 * the base Full's state after a merge) are told apart. A memory file
 * without a trailer (cut to RAM size) loads unchecked.
 */
#define SNAPSHOT_MEM_MAGIC "OSPRMEM1"
/* The same trailer on a Diff's own memory file: only its pages, not loadable before a merge. */
#define SNAPSHOT_MEM_MAGIC_DIFF "OSPRMEMD"
#define SNAPSHOT_MEM_TRAILER_BYTES 4096
void snapshot_mem_trailer(uint8_t page[SNAPSHOT_MEM_TRAILER_BYTES], const uint8_t *id,
			  uint64_t ram_size, bool diff);
/*
 * 1 and id set: a good trailer for ram_size (*diff: a Diff's own file);
 * 0: none (or not one of ours).
 */
int snapshot_mem_trailer_parse(const uint8_t *page, size_t len, uint64_t ram_size, uint8_t *id,
			       bool *diff);

struct snapshot_memory {
	uint64_t ram_size;
	uint8_t id[SNAPSHOT_ID_BYTES];
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
