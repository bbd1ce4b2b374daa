/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics: named groups of 64-bit counters that any module registers, and
 * a writer that emits all of them as one JSON object per line (the shape
 * Firecracker's metrics have: {"utc_timestamp_ms": N, "group": {"field":
 * N, ...}, ...}) to the file or FIFO named by PUT /metrics, every 60
 * seconds and on each metrics_flush() (the FlushMetrics action).
 *
 * Counters are plain uint64_t fields that their owner updates with
 * metrics_inc()/metrics_add() (relaxed atomics: any thread may update,
 * the writer reads without locks). A group describes its fields with a
 * const table of {name, offset}; "gauge" fields are reported as they are,
 * "counter" fields as they are too (cumulative since start), as
 * Firecracker's do.
 *
 * Registration is dynamic because devices exist per VM (one group per
 * disk: "block_<id>", per interface: "net_<id>"): metrics_register()
 * returns a handle, metrics_unregister() drops it. Names are copied.
 */
#ifndef OSPREY_BASE_METRICS_H
#define OSPREY_BASE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics_field {
	const char *name;
	size_t offset; /* of a uint64_t inside the group's struct */
};

#define METRICS_FIELD(type, member) { #member, offsetof(type, member) }

struct metrics_group;

/*
 * Registers `nfields` counters of `base` (a struct the caller owns and
 * keeps alive until metrics_unregister()) under `name`. NULL on ENOMEM.
 */
struct metrics_group *metrics_register(const char *name, const struct metrics_field *fields,
				       size_t nfields, const void *base);
void metrics_unregister(struct metrics_group *g);

static inline void metrics_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline void metrics_inc(uint64_t *counter)
{
	metrics_add(counter, 1);
}

static inline void metrics_set(uint64_t *gauge, uint64_t v)
{
	__atomic_store_n(gauge, v, __ATOMIC_RELAXED);
}

/*
 * PUT /metrics: opens `path` for writing (O_APPEND; a FIFO is opened
 * non-blocking for writing once a reader exists) and starts the periodic
 * writer. Once only, as in Firecracker: -EALREADY the second time.
 * -errno with a message in err on failure. A FIFO without a reader is
 * not a failure: lines are dropped (metrics_flush() says -EPIPE) until
 * one opens it; a full pipe makes metrics_flush() say -EAGAIN. Neither
 * blocks nor raises SIGPIPE.
 */
int metrics_init(const char *path, char *err, size_t errlen);

/* Writes one line now. -ENOENT when metrics_init() was never called. */
int metrics_flush(void);

/* The JSON line metrics_flush() would write (malloc'd), for tests. */
char *metrics_render(void);

/*
 * Stops the periodic writer, writes a last line, closes the file. After
 * it metrics_init() may be called again (tests; osprey calls it at exit).
 */
void metrics_shutdown(void);

/*
 * The name a group was registered under: `name`, or `name_2`, `name_3`...
 * when a group of that name exists already (two disks with the same file
 * name).
 */
const char *metrics_group_name(const struct metrics_group *g);

/*
 * Period of the writer in ms (default 60000, or the environment variable
 * OSPREY_METRICS_INTERVAL_MS). Before metrics_init(); 0 restores the
 * default. Mainly for tests.
 */
void metrics_set_interval_ms(unsigned ms);

/* Lines written and dropped (no FIFO reader, write errors) so far. */
void metrics_writer_stats(uint64_t *written, uint64_t *dropped);

/*
 * The "api_server" group (base/metrics_api.c), always registered:
 * requests, latency_us_sum, latency_us_max, status_2xx, status_4xx,
 * status_5xx. The API server calls metrics_api_request() once per
 * answered request with the time from the request's first byte to the
 * response, in microseconds, and the HTTP status. Thread-safe.
 */
struct metrics_api_server {
	uint64_t requests;
	uint64_t latency_us_sum;
	uint64_t latency_us_max;
	uint64_t status_2xx, status_4xx, status_5xx;
};

extern struct metrics_api_server metrics_api_server;
void metrics_api_request(uint64_t usec, unsigned status);

/* Raises *gauge to v if v is larger (relaxed, lock-free). */
static inline void metrics_max(uint64_t *gauge, uint64_t v)
{
	uint64_t cur = __atomic_load_n(gauge, __ATOMIC_RELAXED);

	while (v > cur &&
	       !__atomic_compare_exchange_n(gauge, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

#endif
