/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration (docs/migration.md): pre-copy of a running machine to a
 * listening osprey, over a Unix socket or TCP.
 *
 * Source: sends the configuration, then every page of RAM while the
 * guest runs, then rounds of the pages dirtied meanwhile (dirty log,
 * accel ops dirty_log/dirty_sync) until a round is small enough for the
 * downtime target or the round limit is reached; then pauses the vCPUs,
 * sends the last dirty pages and the machine state (vmm/vm_state.h), and
 * waits for the destination to confirm it loaded. Only then does the
 * source's run end (status 0, "migrated"). Any failure before that
 * (cancel, a cut connection, a refusal) leaves the source running as it
 * was.
 *
 * Destination: `osprey run --incoming URI` (or the API) listens, takes
 * one connection, builds the machine from the stream's configuration
 * (vm_create_from, anonymous RAM), fills RAM, loads the state, confirms
 * and runs. A malformed, hostile or cut stream ends it with one error
 * and status 1, never a crash.
 *
 * The stream is a sequence of records (migration/stream.h), each with a
 * type, a length bounded by its type and a CRC.
 */
#ifndef OSPREY_MIGRATION_MIGRATION_H
#define OSPREY_MIGRATION_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

struct vm;

/* "unix:/path/to/socket" or "tcp:HOST:PORT". */
#define MIGRATION_URI_MAX 256

struct migration_params {
	char uri[MIGRATION_URI_MAX];
	uint64_t bandwidth_bytes_per_s; /* 0: unlimited */
	uint64_t downtime_target_ms;	/* stop-and-copy when a round fits; 0: default 20 */
	unsigned max_rounds;		/* 0: default 30 */
};

enum migration_phase {
	MIGRATION_NONE,
	MIGRATION_ACTIVE,
	MIGRATION_COMPLETED,
	MIGRATION_FAILED,
	MIGRATION_CANCELLED,
};

struct migration_status {
	enum migration_phase phase;
	unsigned rounds;
	uint64_t pages_sent, bytes_sent;
	uint64_t total_ms, downtime_ms;
	char error[192];
};

/*
 * Starts migrating vm (running, not paused) on a thread of its own and
 * returns: -EBUSY while one is active. Progress and the outcome through
 * migration_get_status; cancel with migration_cancel.
 */
int migration_start(struct vm *vm, const struct migration_params *p, char *err, size_t errlen);
/* Ends an active migration; the source keeps running. -ESRCH when none is active. */
int migration_cancel(struct vm *vm);
void migration_get_status(struct vm *vm, struct migration_status *st);
/*
 * (Extension, migrate2.) Cancels an active migration and waits for its
 * thread: call after vm_run returned and before vm_destroy (which would
 * otherwise join it only after the vCPUs are gone). No-op when none.
 */
void migration_stop(struct vm *vm);

/*
 * Destination: listens on uri, accepts one connection, receives the
 * machine. On success *cfg_out (caller frees: vm_config_free_strings +
 * free) and *out, ready for vm_run. 0 or -errno, message in err.
 */
int migration_receive(const char *uri, struct vm_config **cfg_out, struct vm **out, char *err,
		      size_t errlen);

/*
 * (Extension, migrate2.) migration_receive with the destination's own
 * settings: where its console goes replaces the source's (console_path
 * copied; console_virtio stays the source's, the device must match).
 * o may be NULL.
 */
struct migration_receive_opts {
	enum console_mode console;
	const char *console_path; /* CONSOLE_FILE */
};
int migration_receive_ex(const char *uri, const struct migration_receive_opts *o,
			 struct vm_config **cfg_out, struct vm **out, char *err, size_t errlen);

#endif
