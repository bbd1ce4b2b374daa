/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token-bucket rate limiting with Firecracker's semantics (see the
 * TokenBucket and RateLimiter objects in the API contract): a limiter has
 * two independent buckets, one counting bytes ("bandwidth") and one
 * counting operations ("ops").
 *
 * A bucket of `size` tokens refills completely in `refill_time_ms`
 * (continuously, size / refill_time_ms tokens per ms); `one_time_burst`
 * extra tokens are available once, at the start, and do not refill. A
 * bucket with size 0 or refill_time_ms 0 is unlimited.
 *
 * Devices call rate_limiter_consume() before doing an operation of n
 * bytes; when it says no, the device stops taking requests from that
 * queue and retries after rate_limiter_wait_ms() (a timerfd on its I/O
 * thread), so nothing is dropped and the guest only sees a slower device.
 * Thread safety: the caller serialises (devices use d->lock).
 */
#ifndef OSPREY_BASE_RATE_LIMITER_H
#define OSPREY_BASE_RATE_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

struct rate_bucket_config {
	uint64_t size;		 /* tokens; 0: unlimited */
	uint64_t one_time_burst; /* extra tokens, used once */
	uint64_t refill_time_ms; /* time to refill `size`; 0: unlimited; at most ~584 years count */
};

struct rate_limiter_config {
	struct rate_bucket_config bandwidth; /* bytes */
	struct rate_bucket_config ops;	     /* operations */
};

/* Whether a configuration limits anything at all. */
bool rate_limiter_config_active(const struct rate_limiter_config *cfg);

struct rate_bucket {
	struct rate_bucket_config cfg;
	uint64_t budget;	/* tokens now available (refilling part) */
	uint64_t burst_left;	/* one-time burst tokens left */
	uint64_t debt;		/* taken beyond a full bucket (an oversize operation) */
	uint64_t refill_rem;	/* token-nanoseconds not yet a whole token (< refill ns) */
	uint64_t last_update_ns; /* CLOCK_MONOTONIC of the last refill */
};

struct rate_limiter {
	struct rate_bucket bandwidth, ops;
	uint64_t throttled; /* times consume() said no (metrics) */
};

/*
 * Sets up (or, at run time, reconfigures and refills) a limiter: both
 * buckets full, the burst available, `throttled` zero. cfg NULL: unlimited.
 */
void rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *cfg);

/*
 * Takes one operation and `bytes` bytes if both buckets have them, and
 * returns true; otherwise takes nothing and returns false. An operation
 * larger than a whole bucket is let through once the bucket is full (it
 * would never fit otherwise), so large requests are slowed, not stuck;
 * what it took beyond the bucket is a debt that later refills pay first,
 * so the long-run rate still holds. Zero bytes always fit the bandwidth
 * bucket (an operation still costs one op).
 */
bool rate_limiter_consume(struct rate_limiter *rl, uint64_t bytes);

/* Milliseconds until a consume(bytes) can succeed (0: now); >= 1 if not. */
uint64_t rate_limiter_wait_ms(struct rate_limiter *rl, uint64_t bytes);

/* Same with an explicit clock, for unit tests. */
bool rate_limiter_consume_at(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns);
uint64_t rate_limiter_wait_ms_at(struct rate_limiter *rl, uint64_t bytes, uint64_t now_ns);
void rate_limiter_init_at(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
			  uint64_t now_ns);

/*
 * rate_limiter_init() for a limiter in use (PATCH /drives, PATCH
 * /network-interfaces): the new buckets start full, with the new burst;
 * `throttled` is kept. cfg NULL: unlimited.
 */
void rate_limiter_reconfigure(struct rate_limiter *rl, const struct rate_limiter_config *cfg);
void rate_limiter_reconfigure_at(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
				 uint64_t now_ns);

/* Whether the limiter limits anything (devices skip it otherwise). */
bool rate_limiter_active(const struct rate_limiter *rl);

/*
 * Snapshots and migration (base/state.h): the configuration and both
 * buckets, with each bucket's last refill as an age ("so many ns before
 * the save") rather than a clock reading, so a limiter restored in another
 * process, or after a reboot of the host, is exactly as full as it was.
 * Load validates everything (budget within the bucket, burst within the
 * configured burst, a refill remainder below one token's time, a bounded
 * debt) and fails r on anything else; rl changes only when it succeeds.
 */
struct state_writer;
struct state_reader;
void rate_limiter_save(const struct rate_limiter *rl, struct state_writer *w);
void rate_limiter_load(struct rate_limiter *rl, struct state_reader *r, const char *what);
void rate_limiter_save_at(const struct rate_limiter *rl, struct state_writer *w, uint64_t now_ns);
void rate_limiter_load_at(struct rate_limiter *rl, struct state_reader *r, const char *what,
			  uint64_t now_ns);

#endif
