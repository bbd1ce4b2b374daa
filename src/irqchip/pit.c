// SPDX-License-Identifier: Apache-2.0
/* 8254 PIT model, counts computed from the time (see pit.h). */
#include "irqchip/pit.h"

#include <string.h>

#define NS_PER_SEC 1000000000ULL
#define REFRESH_NS 15085 /* port 0x61 bit 4 toggles every ~15 us */

static uint64_t next_event_locked(struct pit *p);

static uint64_t now_locked(struct pit *p)
{
	if (p->ops.now_ns) {
		uint64_t t = p->ops.now_ns(p->ops.opaque);

		if (t > p->last_now)
			p->last_now = t;
		return t;
	}
	return p->last_now;
}

/* Whole PIT clocks in ns nanoseconds. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * PIT_HZ) / NS_PER_SEC);
}

/* The first ns at which ticks clocks have passed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * NS_PER_SEC + PIT_HZ - 1) / PIT_HZ);
}

/* Clocks counted so far by an armed channel. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
	if (c->frozen)
		return c->frozen_ticks;
	return now > c->start_ns ? ns_to_ticks(now - c->start_ns) : 0;
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static uint16_t count_at(const struct pit_channel *c, uint64_t now)
{
	uint64_t t, n = c->reload, h, hi;

	if (!c->armed)
		return (uint16_t)c->reload;
	t = elapsed(c, now);
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - t % n);
	case 3:
		h = t % n;
		hi = (n + 1) / 2;
		if (h >= hi)
			h -= hi;
		return (uint16_t)((n & ~1ULL) - 2 * h);
	default:
		return (uint16_t)(n - t);
	}
}

static bool output_at(const struct pit_channel *c, uint64_t now)
{
	uint64_t t, n = c->reload;

	if (!c->armed) /* mode 0 goes low on the control word; the others high */
		return c->mode != 0;
	if (periodic(c) && !c->gate)
		return true;
	t = elapsed(c, now);
	switch (c->mode) {
	case 0:
	case 1:
		return t >= n;
	case 2:
		return n == 1 || t % n != n - 1;
	case 3:
		return t % n < (n + 1) / 2;
	default: /* 4, 5 */
		return t != n;
	}
}

static uint8_t status_of(const struct pit_channel *c, uint64_t now)
{
	return (uint8_t)((output_at(c, now) << 7) | (c->null_count << 6) | (c->rw << 4) |
			 (c->mode << 1) | c->bcd);
}

static void load(struct pit_channel *c, uint16_t raw, uint64_t now)
{
	c->reload = raw ? raw : 65536;
	c->null_count = 0;
	c->loaded = 1;
	c->fired = 0;
	c->edges_done = 0;
	c->start_ns = now;
	c->frozen_ticks = 0;
	if (c->mode == 1 || c->mode == 5) {
		c->armed = 0; /* waits for a gate trigger */
		c->frozen = 0;
		return;
	}
	c->armed = 1;
	c->frozen = !c->gate;
}

static void set_gate(struct pit_channel *c, bool g, uint64_t now)
{
	if (g == (bool)c->gate)
		return;
	c->gate = g;
	if (!c->loaded)
		return;
	switch (c->mode) {
	case 0:
	case 4:
		if (!g) {
			c->frozen_ticks = elapsed(c, now);
			c->frozen = 1;
		} else {
			c->start_ns = now - ticks_to_ns(c->frozen_ticks);
			c->frozen = 0;
		}
		break;
	case 2:
	case 3:
		if (!g) {
			c->frozen_ticks = 0;
			c->frozen = 1;
		} else {
			c->start_ns = now;
			c->frozen = 0;
			c->edges_done = 0;
		}
		break;
	default: /* 1, 5: a rising gate (re)triggers */
		if (g) {
			c->armed = 1;
			c->frozen = 0;
			c->fired = 0;
			c->start_ns = now;
			c->frozen_ticks = 0;
		}
		break;
	}
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->count_latched)
		return;
	c->latched_count = count_at(c, now);
	c->count_latched = c->rw == 3 ? 2 : 1;
}

static void reset_channel(struct pit_channel *c, bool gate)
{
	memset(c, 0, sizeof(*c));
	c->gate = gate;
	c->rw = 3;
	c->reload = 65536;
	c->null_count = 1;
}

void pit_reset(struct pit *p)
{
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < 3; i++)
		reset_channel(&p->ch[i], i != 2);
	p->port61 = 0;
	pthread_mutex_unlock(&p->lock);
}

void pit_init(struct pit *p, const struct pit_ops *ops)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	if (ops)
		p->ops = *ops;
	pit_reset(p);
}

void pit_destroy(struct pit *p)
{
	pthread_mutex_destroy(&p->lock);
}

static void write_control(struct pit *p, uint8_t v, uint64_t now)
{
	unsigned sc = v >> 6, rw = (v >> 4) & 3;
	struct pit_channel *c;

	if (sc == 3) { /* read-back */
		for (unsigned i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			c = &p->ch[i];
			if (!(v & 0x20))
				latch_count(c, now);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_of(c, now);
				c->status_latched = 1;
			}
		}
		return;
	}
	c = &p->ch[sc];
	if (!rw) {
		latch_count(c, now);
		return;
	}
	c->rw = (uint8_t)rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = v & 1;
	c->armed = 0;
	c->loaded = 0;
	c->frozen = 0;
	c->fired = 0;
	c->null_count = 1;
	c->write_msb_next = 0;
	c->read_msb_next = 0;
	c->count_latched = 0;
	c->status_latched = 0;
}

static void write_count(struct pit_channel *c, uint8_t v, uint64_t now)
{
	switch (c->rw) {
	case 1:
		load(c, v, now);
		break;
	case 2:
		load(c, (uint16_t)(v << 8), now);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = 1;
			if (c->mode == 0) /* the first byte stops a mode 0 count */
				c->armed = 0;
		} else {
			c->write_msb_next = 0;
			load(c, (uint16_t)(c->write_lsb | (v << 8)), now);
		}
		break;
	}
}

static uint8_t read_count(struct pit_channel *c, uint64_t now)
{
	uint16_t v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		v = c->latched_count;
		if (c->rw == 3)
			msb = c->count_latched == 1;
		else
			msb = c->rw == 2;
		c->count_latched--;
		return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
	}
	v = count_at(c, now);
	switch (c->rw) {
	case 1:
		return (uint8_t)v;
	case 2:
		return (uint8_t)(v >> 8);
	default:
		msb = c->read_msb_next;
		c->read_msb_next ^= 1;
		return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
	}
}

uint8_t pit_io_read(struct pit *p, uint16_t port)
{
	uint8_t v = 0xff;
	uint64_t now;

	pthread_mutex_lock(&p->lock);
	now = now_locked(p);
	if (port >= PIT_PORT_CH0 && port < PIT_PORT_CMD) {
		v = read_count(&p->ch[port - PIT_PORT_CH0], now);
	} else if (port == PIT_PORT_61) {
		v = (uint8_t)((p->port61 & 0x0f) | (((now / REFRESH_NS) & 1) << 4) |
			      (output_at(&p->ch[2], now) << 5));
	}
	pthread_mutex_unlock(&p->lock);
	return v;
}

void pit_io_write(struct pit *p, uint16_t port, uint8_t value)
{
	uint64_t now, before, after;

	pthread_mutex_lock(&p->lock);
	now = now_locked(p);
	before = next_event_locked(p);
	if (port >= PIT_PORT_CH0 && port < PIT_PORT_CMD) {
		write_count(&p->ch[port - PIT_PORT_CH0], value, now);
	} else if (port == PIT_PORT_CMD) {
		write_control(p, value, now);
	} else if (port == PIT_PORT_61) {
		p->port61 = value & 0x0f;
		set_gate(&p->ch[2], value & 1, now);
	}
	after = next_event_locked(p);
	pthread_mutex_unlock(&p->lock);
	if (before != after && p->ops.changed)
		p->ops.changed(p->ops.opaque);
}

/* The clock count at which channel 0's output rises next, or UINT64_MAX. */
static uint64_t next_edge_tick(const struct pit_channel *c)
{
	if (!c->armed || c->frozen)
		return UINT64_MAX;
	switch (c->mode) {
	case 2:
	case 3:
		return (c->edges_done + 1) * c->reload;
	case 0:
	case 1:
		return c->fired ? UINT64_MAX : c->reload;
	default: /* 4, 5: low for one clock at N, high again at N + 1 */
		return c->fired ? UINT64_MAX : c->reload + 1;
	}
}

static uint64_t next_event_locked(struct pit *p)
{
	const struct pit_channel *c = &p->ch[0];
	uint64_t tick = next_edge_tick(c), t;

	if (tick == UINT64_MAX)
		return UINT64_MAX;
	t = c->start_ns + ticks_to_ns(tick);
	if (periodic(c) && t < p->last_now + PIT_MIN_IRQ_NS)
		t = p->last_now + PIT_MIN_IRQ_NS;
	return t;
}

uint64_t pit_next_event_ns(struct pit *p)
{
	uint64_t t;

	pthread_mutex_lock(&p->lock);
	t = next_event_locked(p);
	pthread_mutex_unlock(&p->lock);
	return t;
}

void pit_advance(struct pit *p, uint64_t now_ns)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t tick, t;
	bool pulse = false;

	pthread_mutex_lock(&p->lock);
	if (now_ns > p->last_now)
		p->last_now = now_ns;
	tick = next_edge_tick(c);
	if (tick != UINT64_MAX) {
		t = elapsed(c, now_ns);
		if (t >= tick) {
			pulse = true;
			if (periodic(c))
				c->edges_done = t / c->reload; /* coalesced */
			else
				c->fired = 1;
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (pulse && p->ops.irq) {
		p->ops.irq(p->ops.opaque, true);
		p->ops.irq(p->ops.opaque, false);
	}
}

void pit_save(struct pit *p, struct pit_snap *snap)
{
	uint64_t now;

	pthread_mutex_lock(&p->lock);
	now = now_locked(p);
	memset(snap, 0, sizeof(*snap));
	memcpy(snap->ch, p->ch, sizeof(p->ch));
	for (unsigned i = 0; i < 3; i++)
		snap->ch[i].start_ns = now > p->ch[i].start_ns ? now - p->ch[i].start_ns : 0;
	snap->port61 = p->port61;
	pthread_mutex_unlock(&p->lock);
}

void pit_restore(struct pit *p, const struct pit_snap *snap)
{
	uint64_t now;

	pthread_mutex_lock(&p->lock);
	now = now_locked(p);
	memcpy(p->ch, snap->ch, sizeof(p->ch));
	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		uint64_t ago = c->start_ns;

		/* A snapshot is data: keep every field in range. */
		if (ago > now)
			ago = now;
		c->start_ns = now - ago;
		c->mode = c->mode > 5 ? c->mode - 4 : c->mode;
		if (c->mode > 5)
			c->mode = 0;
		if (c->rw < 1 || c->rw > 3)
			c->rw = 3;
		if (c->reload < 1 || c->reload > 65536)
			c->reload = 65536;
		if (c->count_latched > 2)
			c->count_latched = 0;
		if (i != 2)
			c->gate = 1;
		if (periodic(c) && c->edges_done > elapsed(c, now) / c->reload)
			c->edges_done = elapsed(c, now) / c->reload;
	}
	p->port61 = snap->port61 & 0x0f;
	p->ch[2].gate = p->port61 & 1;
	pthread_mutex_unlock(&p->lock);
	if (p->ops.changed)
		p->ops.changed(p->ops.opaque);
}
