// SPDX-License-Identifier: Apache-2.0
/*
 * Token buckets (rate_limiter.h).
 *
 * A limited bucket gains size tokens per refill_time_ms, continuously:
 * each refill adds floor((elapsed * size + refill_rem) / refill_ns)
 * tokens and keeps the remainder in refill_rem, so no fraction of a token
 * is lost between calls. A full bucket does not save time up.
 *
 * Consumption takes one_time_burst tokens first, then the refilling
 * budget. An operation larger than the whole bucket passes when the
 * budget is full and leaves a debt of what it took beyond the bucket;
 * refills pay the debt before the budget grows again, so the long-run
 * rate stays size per refill_time even for such operations.
 *
 * All arithmetic saturates instead of wrapping: products of two 64-bit
 * values go through a 128-bit intermediate, sums through
 * add_overflows_u64(), refill_time_ms * 10^6 through mul_overflows_u64().
 */
#include "base/rate_limiter.h"

#include <time.h>

#include "base/state.h"
#include "base/util.h"

#define NS_PER_MS 1000000ULL

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return add_overflows_u64(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool bucket_cfg_unlimited(const struct rate_bucket_config *c)
{
	return c->size == 0 || c->refill_time_ms == 0;
}

bool rate_limiter_config_active(const struct rate_limiter_config *cfg)
{
	return cfg && (!bucket_cfg_unlimited(&cfg->bandwidth) || !bucket_cfg_unlimited(&cfg->ops));
}

static uint64_t refill_ns(const struct rate_bucket *b)
{
	uint64_t ns;

	return mul_overflows_u64(b->cfg.refill_time_ms, NS_PER_MS, &ns) ? UINT64_MAX : ns;
}

static void bucket_init(struct rate_bucket *b, const struct rate_bucket_config *cfg, uint64_t now)
{
	b->cfg = *cfg;
	b->budget = cfg->size;
	b->burst_left = bucket_cfg_unlimited(cfg) ? 0 : cfg->one_time_burst;
	b->debt = 0;
	b->refill_rem = 0;
	b->last_update_ns = now;
}

static void bucket_refill(struct rate_bucket *b, uint64_t now)
{
	unsigned __int128 total;
	uint64_t tokens, period = refill_ns(b);

	if (b->debt == 0 && b->budget >= b->cfg.size) {
		b->last_update_ns = now; /* full: nothing to save up */
		b->refill_rem = 0;
		return;
	}
	if (now <= b->last_update_ns)
		return;
	/* Exact: the part of a token not yet earned carries over in refill_rem. */
	total = (unsigned __int128)(now - b->last_update_ns) * b->cfg.size + b->refill_rem;
	b->refill_rem = (uint64_t)(total % period);
	total /= period;
	tokens = total > UINT64_MAX ? UINT64_MAX : (uint64_t)total;
	b->last_update_ns = now;
	if (tokens >= b->debt) {
		tokens -= b->debt;
		b->debt = 0;
	} else {
		b->debt -= tokens;
		tokens = 0;
	}
	b->budget = sat_add(b->budget, tokens);
	if (b->budget >= b->cfg.size) {
		b->budget = b->cfg.size;
		b->refill_rem = 0;
	}
}

/* Whether n tokens can be taken now (after a refill). */
static bool bucket_can_take(const struct rate_bucket *b, uint64_t n)
{
	if (bucket_cfg_unlimited(&b->cfg) || n == 0)
		return true;
	if (b->debt)
		return false;
	if (n <= sat_add(b->burst_left, b->budget))
		return true;
	/* Too large for the bucket: passes once the budget is full. */
	return n > b->cfg.size && b->budget == b->cfg.size;
}

static void bucket_take(struct rate_bucket *b, uint64_t n)
{
	uint64_t from_burst;

	if (bucket_cfg_unlimited(&b->cfg))
		return;
	from_burst = n < b->burst_left ? n : b->burst_left;
	b->burst_left -= from_burst;
	n -= from_burst;
	if (n <= b->budget) {
		b->budget -= n;
		return;
	}
	b->debt = n - b->budget;
	b->budget = 0;
}

/* Nanoseconds until bucket_can_take(b, n) (after a refill at now); 0: now. */
static uint64_t bucket_wait_ns(const struct rate_bucket *b, uint64_t n)
{
	unsigned __int128 need, ns;
	uint64_t have, deficit;

	if (bucket_can_take(b, n))
		return 0;
	if (n > b->cfg.size) {
		/* Wait for the debt and a full budget (burst tokens do not count). */
		deficit = sat_add(b->debt, b->cfg.size - b->budget);
	} else {
		have = sat_add(b->burst_left, b->budget);
		deficit = sat_add(b->debt, n > have ? n - have : 0);
	}
	/* deficit >= 1 and refill_rem < period: need > 0. */
	need = (unsigned __int128)deficit * refill_ns(b) - b->refill_rem;
	ns = (need + b->cfg.size - 1) / b->cfg.size;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

void rate_limiter_init_at(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
			  uint64_t now)
{
	static const struct rate_limiter_config unlimited;

	if (!cfg)
		cfg = &unlimited;
	bucket_init(&rl->bandwidth, &cfg->bandwidth, now);
	bucket_init(&rl->ops, &cfg->ops, now);
	rl->throttled = 0;
}

void rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *cfg)
{
	rate_limiter_init_at(rl, cfg, now_ns());
}

void rate_limiter_reconfigure_at(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
				 uint64_t now)
{
	uint64_t throttled = rl->throttled;

	rate_limiter_init_at(rl, cfg, now);
	rl->throttled = throttled;
}

void rate_limiter_reconfigure(struct rate_limiter *rl, const struct rate_limiter_config *cfg)
{
	rate_limiter_reconfigure_at(rl, cfg, now_ns());
}

bool rate_limiter_active(const struct rate_limiter *rl)
{
	return !bucket_cfg_unlimited(&rl->bandwidth.cfg) || !bucket_cfg_unlimited(&rl->ops.cfg);
}

bool rate_limiter_consume_at(struct rate_limiter *rl, uint64_t bytes, uint64_t now)
{
	bucket_refill(&rl->bandwidth, now);
	bucket_refill(&rl->ops, now);
	/* Both buckets must agree, or neither is touched. */
	if (!bucket_can_take(&rl->bandwidth, bytes) || !bucket_can_take(&rl->ops, 1)) {
		rl->throttled++;
		return false;
	}
	bucket_take(&rl->bandwidth, bytes);
	bucket_take(&rl->ops, 1);
	return true;
}

bool rate_limiter_consume(struct rate_limiter *rl, uint64_t bytes)
{
	/* Unlimited (the common case): no clock read on the device's path. */
	if (!rate_limiter_active(rl))
		return true;
	return rate_limiter_consume_at(rl, bytes, now_ns());
}

uint64_t rate_limiter_wait_ms_at(struct rate_limiter *rl, uint64_t bytes, uint64_t now)
{
	uint64_t a, b, ns;

	bucket_refill(&rl->bandwidth, now);
	bucket_refill(&rl->ops, now);
	a = bucket_wait_ns(&rl->bandwidth, bytes);
	b = bucket_wait_ns(&rl->ops, 1);
	ns = a > b ? a : b;
	if (ns == 0)
		return 0;
	return ns / NS_PER_MS + (ns % NS_PER_MS ? 1 : 0);
}

uint64_t rate_limiter_wait_ms(struct rate_limiter *rl, uint64_t bytes)
{
	return rate_limiter_wait_ms_at(rl, bytes, now_ns());
}

/* ---- snapshots ---- */

/* Largest debt a saved bucket may carry: one operation of 4 GiB beyond a bucket. */
#define BUCKET_DEBT_MAX (1ULL << 40)

static void bucket_save(const struct rate_bucket *b, struct state_writer *w, uint64_t now)
{
	state_put_u64(w, b->cfg.size);
	state_put_u64(w, b->cfg.one_time_burst);
	state_put_u64(w, b->cfg.refill_time_ms);
	state_put_u64(w, b->budget);
	state_put_u64(w, b->burst_left);
	state_put_u64(w, b->debt);
	state_put_u64(w, b->refill_rem);
	state_put_u64(w, now > b->last_update_ns ? now - b->last_update_ns : 0);
}

static void bucket_load(struct rate_bucket *b, struct state_reader *r, const char *what,
			const char *which, uint64_t now)
{
	uint64_t age;

	b->cfg.size = state_get_u64(r);
	b->cfg.one_time_burst = state_get_u64(r);
	b->cfg.refill_time_ms = state_get_u64(r);
	b->budget = state_get_u64(r);
	b->burst_left = state_get_u64(r);
	b->debt = state_get_u64(r);
	b->refill_rem = state_get_u64(r);
	age = state_get_u64(r);
	if (state_reader_error(r))
		return;
	if (bucket_cfg_unlimited(&b->cfg)) {
		if (b->budget > b->cfg.size || b->burst_left || b->debt || b->refill_rem)
			state_fail(r, "%s: %s bucket: unlimited, yet with tokens in use", what, which);
		return;
	}
	if (b->budget > b->cfg.size)
		state_fail(r, "%s: %s bucket: %llu tokens in a bucket of %llu", what, which,
			   (unsigned long long)b->budget, (unsigned long long)b->cfg.size);
	else if (b->burst_left > b->cfg.one_time_burst)
		state_fail(r, "%s: %s bucket: %llu burst tokens left of %llu", what, which,
			   (unsigned long long)b->burst_left, (unsigned long long)b->cfg.one_time_burst);
	else if (b->refill_rem >= refill_ns(b))
		state_fail(r, "%s: %s bucket: refill remainder %llu ns beyond a token", what, which,
			   (unsigned long long)b->refill_rem);
	else if (b->debt > BUCKET_DEBT_MAX)
		state_fail(r, "%s: %s bucket: debt of %llu tokens", what, which,
			   (unsigned long long)b->debt);
	b->last_update_ns = age < now ? now - age : 0;
}

void rate_limiter_save_at(const struct rate_limiter *rl, struct state_writer *w, uint64_t now)
{
	bucket_save(&rl->bandwidth, w, now);
	bucket_save(&rl->ops, w, now);
	state_put_u64(w, rl->throttled);
}

void rate_limiter_save(const struct rate_limiter *rl, struct state_writer *w)
{
	rate_limiter_save_at(rl, w, now_ns());
}

void rate_limiter_load_at(struct rate_limiter *rl, struct state_reader *r, const char *what,
			  uint64_t now)
{
	struct rate_limiter tmp;

	bucket_load(&tmp.bandwidth, r, what, "bandwidth", now);
	bucket_load(&tmp.ops, r, what, "ops", now);
	tmp.throttled = state_get_u64(r);
	if (!state_reader_error(r))
		*rl = tmp;
}

void rate_limiter_load(struct rate_limiter *rl, struct state_reader *r, const char *what)
{
	rate_limiter_load_at(rl, r, what, now_ns());
}
