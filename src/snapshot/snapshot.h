/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots (docs/snapshots.md): a paused machine to a state file and a
 * memory file, and back into a new machine.
 *
 * State file: magic "OSPRSNAP", u32 format version (SNAPSHOT_FORMAT_VERSION),
 * u32 snapshot type, u64 body length, the body (vmm/vm_state.h sections,
 * plus "memory": RAM size, page size and, for a Diff, the bitmap of the
 * pages it holds), then the CRC-64 of everything before it. A file of
 * another version, truncated, with any flipped bit, or made with another
 * CPU template than the one it would load into is rejected before any of
 * it is used.
 *
 * Memory file: guest RAM in mapping order (hw/memory.h), RAM size bytes.
 * Full: every page. Diff: a sparse file of the same size holding only the
 * pages dirtied since the previous snapshot (or restore) of this machine;
 * snapshot_merge() applies it onto its base. After the RAM, one page of
 * trailer names the snapshot (a random id also in the state file's
 * "memory" section; snapshot/snapshot_int.h): a state file and a memory
 * file of different snapshots are refused ("memory file X belongs to
 * another snapshot"); a memory file cut to RAM size loads unchecked. A
 * Diff's own memory file is marked partial and loads only once merged.
 * (Trailer added by snapcore.)
 *
 * Never corrupts the previous snapshot: both files are written to
 * temporaries beside their targets, fsync'ed, renamed (memory file first,
 * state file last) and the directories fsync'ed. A crash at any moment
 * leaves the old pair or the new pair.
 */
#ifndef OSPREY_SNAPSHOT_SNAPSHOT_H
#define OSPREY_SNAPSHOT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

struct vm;

#define SNAPSHOT_MAGIC "OSPRSNAP"
#define SNAPSHOT_FORMAT_VERSION 1

enum snapshot_type {
	SNAPSHOT_FULL = 0,
	SNAPSHOT_DIFF = 1,
};

struct snapshot_create_params {
	enum snapshot_type type;
	const char *state_path; /* Firecracker's snapshot_path */
	const char *mem_path;	/* mem_file_path */
};

struct snapshot_stats {
	uint64_t state_bytes;
	uint64_t mem_pages_written;
	uint64_t elapsed_ns;
};

/*
 * vm must be paused (-EBUSY). A Diff needs dirty tracking on (machine
 * config track_dirty_pages, or a load with enable_diff_snapshots):
 * -EINVAL otherwise. 0 or -errno with a message in err.
 */
int snapshot_create(struct vm *vm, const struct snapshot_create_params *p,
		    struct snapshot_stats *st, char *err, size_t errlen);

/* A verified state file in memory. */
struct snapshot_file {
	uint8_t *buf;
	size_t len;
	enum snapshot_type type;
	const uint8_t *body; /* into buf */
	size_t body_len;
};

/* Reads and verifies (magic, version, length, CRC-64). 0 or -errno, message in err. */
int snapshot_file_read(const char *path, struct snapshot_file *f, char *err, size_t errlen);
/* The same checks on bytes in memory (fuzzing, tests); f->buf stays NULL. */
int snapshot_file_parse(const void *buf, size_t len, struct snapshot_file *f, char *err,
			size_t errlen);
void snapshot_file_free(struct snapshot_file *f);

struct snapshot_load_params {
	const char *state_path;
	const char *mem_path;	    /* mem_backend File */
	bool enable_diff_snapshots; /* start dirty tracking after the load */
	bool resume;		    /* resume_vm: run at once, else start paused */
};

/*
 * A new machine from a snapshot: verifies the state file, reads its
 * configuration (*cfg_out, owned by the caller: vm_config_free_strings +
 * free, and kept alive as long as the machine), checks the memory file
 * size, maps it MAP_PRIVATE (vm_create_from) and loads the state. The
 * machine has not run yet: vm_run() runs it. 0 or -errno, message in err.
 */
int snapshot_load(const struct snapshot_load_params *p, struct vm_config **cfg_out,
		  struct vm **out, char *err, size_t errlen);

/*
 * Writes the pages of Diff snapshot diff_state/diff_mem into base_mem (a
 * Full snapshot's memory file of the same machine), fsync'ed. (snapcore:
 * into a copy beside it, renamed over it: a crash leaves the old base, and
 * machines running from the old base keep their file unchanged.)
 * The diff's state file then restores with base_mem as its memory file.
 */
int snapshot_merge(const char *diff_state_path, const char *diff_mem_path, const char *base_mem_path,
		   char *err, size_t errlen);

#endif
