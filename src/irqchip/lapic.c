// SPDX-License-Identifier: Apache-2.0
/* Local APIC register model: xAPIC page, x2APIC MSRs, timer, IPIs (see lapic.h). */
#include "irqchip/lapic.h"

#include <string.h>

/* ESR bits. */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

/* Writable bits per register. */
#define LVT_TIMER_BITS 0x700ffu
#define LVT_LINT_BITS 0x1a7ffu
#define LVT_DM_BITS 0x107ffu
#define LVT_ERROR_BITS 0x100ffu
#define ICR_LOW_BITS 0x000ccfffu
#define SVR_BITS 0x3ffu

/* What an operation leaves to do once the lock is dropped. */
struct lapic_out {
	bool notify_irq;
	bool notify_timer;
	bool notify_nmi;
	bool notify_init;
	bool notify_extint;
	bool notify_sipi;
	uint8_t sipi_vector;
	bool has_ipi;
	struct lapic_msg ipi;
	int eoi_vector;
};

static inline uint32_t *reg(struct lapic *l, uint32_t off)
{
	return &l->regs[off >> 2];
}

static inline uint32_t get(const struct lapic *l, uint32_t off)
{
	return l->regs[off >> 2];
}

static inline void set(struct lapic *l, uint32_t off, uint32_t v)
{
	l->regs[off >> 2] = v;
}

static inline uint32_t *vec_word(struct lapic *l, uint32_t base, uint8_t v)
{
	return &l->regs[(base >> 2) + (uint32_t)(v >> 5) * 4];
}

static inline void vec_set(struct lapic *l, uint32_t base, uint8_t v)
{
	*vec_word(l, base, v) |= 1u << (v & 31);
}

static inline void vec_clear(struct lapic *l, uint32_t base, uint8_t v)
{
	*vec_word(l, base, v) &= ~(1u << (v & 31));
}

static inline bool vec_test(struct lapic *l, uint32_t base, uint8_t v)
{
	return *vec_word(l, base, v) & (1u << (v & 31));
}

static int vec_highest(const struct lapic *l, uint32_t base)
{
	for (int i = 7; i >= 0; i--) {
		uint32_t w = l->regs[(base >> 2) + (uint32_t)i * 4];

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

static inline bool hw_enabled(const struct lapic *l)
{
	return l->apic_base & LAPIC_BASE_EN;
}

static inline bool sw_enabled(const struct lapic *l)
{
	return get(l, APIC_SVR) & APIC_SVR_ENABLE;
}

static inline bool x2apic_mode(const struct lapic *l)
{
	const uint64_t both = LAPIC_BASE_EN | LAPIC_BASE_EXTD;

	return (l->apic_base & both) == both;
}

static uint64_t now_locked(struct lapic *l)
{
	if (l->ops.now_ns) {
		uint64_t t = l->ops.now_ns(l->ops.opaque);

		if (t > l->last_now)
			l->last_now = t;
		return t;
	}
	return l->last_now;
}

static uint8_t compute_ppr(const struct lapic *l)
{
	uint8_t tpr = (uint8_t)get(l, APIC_TPR);
	int isrv = vec_highest(l, APIC_ISR);
	uint8_t isr_class = isrv < 0 ? 0 : (uint8_t)(isrv & 0xf0);

	if ((tpr & 0xf0) >= isr_class)
		return tpr;
	return isr_class;
}

static void update_ppr(struct lapic *l)
{
	set(l, APIC_PPR, compute_ppr(l));
}

static int pending_locked(const struct lapic *l)
{
	int irrv;

	if (!hw_enabled(l))
		return -1;
	irrv = vec_highest(l, APIC_IRR);
	if (irrv < 0)
		return -1;
	if ((irrv & 0xf0) <= (int)(get(l, APIC_PPR) & 0xf0))
		return -1;
	return irrv;
}

static void check_pending(struct lapic *l, struct lapic_out *o)
{
	if (pending_locked(l) >= 0)
		o->notify_irq = true;
}

/* Sets IRR for a fixed interrupt (vector already checked >= 16). */
static void set_irr(struct lapic *l, uint8_t vector, bool level_trig, struct lapic_out *o)
{
	bool was = vec_test(l, APIC_IRR, vector);

	vec_set(l, APIC_IRR, vector);
	if (level_trig)
		vec_set(l, APIC_TMR, vector);
	else
		vec_clear(l, APIC_TMR, vector);
	/*
	 * A vector already requested was announced when its bit was set
	 * (and again by the EOI, TPR or SVR write that unblocks it): a timer
	 * or a device raising it again before the CPU took it wakes nobody.
	 * Otherwise a guest halted with interrupts off and a 100 us periodic
	 * timer woke its vCPU thread 10000 times a second for nothing.
	 */
	if (!was)
		check_pending(l, o);
}

static void raise_error(struct lapic *l, uint32_t bits, struct lapic_out *o)
{
	uint32_t lvt = get(l, APIC_LVT_ERROR);
	uint8_t vec = lvt & APIC_VECTOR_MASK;

	l->esr_pending |= bits;
	if (!(lvt & APIC_LVT_MASKED) && vec >= 16 && sw_enabled(l))
		set_irr(l, vec, false, o);
}

/* ---- timer ---- */

static unsigned timer_mode(const struct lapic *l)
{
	unsigned m = (get(l, APIC_LVT_TIMER) & APIC_TIMER_MODE_MASK) >> APIC_TIMER_MODE_SHIFT;

	return m == 3 ? LAPIC_TIMER_ONESHOT : m;
}

static uint64_t timer_divide(const struct lapic *l)
{
	uint32_t dcr = get(l, APIC_TDCR);
	uint32_t v = (dcr & 3) | ((dcr & 8) >> 1);

	return v == 7 ? 1 : 2ULL << v;
}

/* ns of the APIC bus per timer count. */
static uint64_t ns_per_count(const struct lapic *l)
{
	return timer_divide(l) * (1000000000ULL / LAPIC_BUS_HZ);
}

/* The period of a periodic timer: the initial count at the current divide, clamped. */
static uint64_t periodic_ns(const struct lapic *l)
{
	uint64_t p = (uint64_t)get(l, APIC_TMICT) * ns_per_count(l);

	return p < LAPIC_MIN_PERIOD_NS ? LAPIC_MIN_PERIOD_NS : p;
}

static void timer_start(struct lapic *l, uint32_t count, uint64_t now)
{
	uint64_t dur;

	if (!count) {
		l->timer_next_ns = UINT64_MAX;
		l->timer_period_ns = 0;
		return;
	}
	dur = (uint64_t)count * ns_per_count(l);
	if (timer_mode(l) == LAPIC_TIMER_PERIODIC) {
		if (dur < LAPIC_MIN_PERIOD_NS)
			dur = LAPIC_MIN_PERIOD_NS;
		l->timer_period_ns = dur;
	} else {
		l->timer_period_ns = 0;
	}
	l->timer_next_ns = now + dur;
}

static uint32_t current_count(const struct lapic *l, uint64_t now)
{
	uint64_t rem, npc = ns_per_count(l), cc;
	uint32_t initial = get(l, APIC_TMICT);

	if (timer_mode(l) == LAPIC_TIMER_DEADLINE || l->timer_next_ns == UINT64_MAX)
		return 0;
	if (now < l->timer_next_ns) {
		rem = l->timer_next_ns - now;
	} else {
		if (!l->timer_period_ns)
			return 0;
		rem = l->timer_period_ns - (now - l->timer_next_ns) % l->timer_period_ns;
	}
	cc = (rem + npc - 1) / npc;
	return cc > initial ? initial : (uint32_t)cc;
}

/* The deadline in ns of the clock, from the guest TSC deadline. */
static uint64_t deadline_ns(const struct lapic *l)
{
	if (!l->tsc_deadline)
		return UINT64_MAX;
	if (l->tsc_offset >= 0) {
		uint64_t off = (uint64_t)l->tsc_offset;

		return l->tsc_deadline <= off ? 0 : l->tsc_deadline - off;
	}
	uint64_t add = (uint64_t)0 - (uint64_t)l->tsc_offset;

	if (l->tsc_deadline > UINT64_MAX - 1 - add)
		return UINT64_MAX - 1;
	return l->tsc_deadline + add;
}

static uint64_t next_timer_locked(const struct lapic *l)
{
	if (!hw_enabled(l))
		return UINT64_MAX;
	if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
		return deadline_ns(l);
	return l->timer_next_ns;
}

/*
 * The periodic timer's ticks change nothing now: masked, or its vector is
 * still in IRR (the CPU has not taken the last tick, e.g. interrupts off
 * or the VM paused), so a tick would only merge into it. The timer thread
 * need not wake for it (lapic_next_timer_event_ns) until lapic_ack or an
 * LVT write changes that, which announce LAPIC_EV_TIMER.
 */
static bool timer_idle_locked(struct lapic *l)
{
	uint32_t lvt = get(l, APIC_LVT_TIMER);
	uint8_t vec = lvt & APIC_VECTOR_MASK;

	if (!l->timer_period_ns || timer_mode(l) != LAPIC_TIMER_PERIODIC || l->timer_next_ns == UINT64_MAX)
		return false;
	if (lvt & APIC_LVT_MASKED)
		return true;
	return vec >= 16 && vec_test(l, APIC_IRR, vec);
}

/*
 * The ticks of an idle periodic timer up to now were merged or dropped
 * (as on hardware): the next one is on the grid after now, not at once.
 */
static void timer_skip_idle(struct lapic *l, uint64_t now)
{
	if (!l->timer_period_ns || l->timer_next_ns == UINT64_MAX || now < l->timer_next_ns)
		return;
	l->timer_next_ns += ((now - l->timer_next_ns) / l->timer_period_ns + 1) * l->timer_period_ns;
}

static void timer_fire(struct lapic *l, struct lapic_out *o)
{
	uint32_t lvt = get(l, APIC_LVT_TIMER);
	uint8_t vec = lvt & APIC_VECTOR_MASK;

	if (lvt & APIC_LVT_MASKED)
		return;
	if (vec < 16) {
		raise_error(l, ESR_RECV_ILLEGAL_VECTOR, o);
		return;
	}
	set_irr(l, vec, false, o);
}

static void timer_check(struct lapic *l, uint64_t now, struct lapic_out *o)
{
	if (!hw_enabled(l))
		return;
	if (timer_mode(l) == LAPIC_TIMER_DEADLINE) {
		if (l->tsc_deadline && now >= deadline_ns(l)) {
			l->tsc_deadline = 0;
			timer_fire(l, o);
		}
		return;
	}
	if (l->timer_next_ns == UINT64_MAX || now < l->timer_next_ns)
		return;
	if (l->timer_period_ns) {
		/* Missed periods are coalesced into one interrupt. */
		uint64_t periods = (now - l->timer_next_ns) / l->timer_period_ns + 1;

		l->timer_next_ns += periods * l->timer_period_ns;
	} else {
		l->timer_next_ns = UINT64_MAX;
	}
	timer_fire(l, o);
}

/* ---- out-of-lock work ---- */

static void flush(struct lapic *l, struct lapic_out *o)
{
	void *op = l->ops.opaque;

	if (o->eoi_vector >= 0 && l->ops.eoi)
		l->ops.eoi(op, (uint8_t)o->eoi_vector);
	if (o->has_ipi) {
		if (l->ops.send_ipi) {
			l->ops.send_ipi(op, &o->ipi);
		} else if (lapic_match(l, &o->ipi)) {
			/* Nobody routes: only the messages for ourselves arrive. */
			lapic_deliver(l, &o->ipi);
		}
	}
	if (!l->ops.notify)
		return;
	if (o->notify_init)
		l->ops.notify(op, LAPIC_EV_INIT, 0);
	if (o->notify_sipi)
		l->ops.notify(op, LAPIC_EV_SIPI, o->sipi_vector);
	if (o->notify_nmi)
		l->ops.notify(op, LAPIC_EV_NMI, 0);
	if (o->notify_extint)
		l->ops.notify(op, LAPIC_EV_EXTINT, 0);
	if (o->notify_timer)
		l->ops.notify(op, LAPIC_EV_TIMER, 0);
	if (o->notify_irq)
		l->ops.notify(op, LAPIC_EV_IRQ, 0);
}

#define OUT_INIT { .eoi_vector = -1 }

/* ---- reset ---- */

static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id & 0xfffffff0u) << 12) | (1u << (id & 0xf));
}

/* Power-up register state, keeping the ID register. */
static void reset_regs(struct lapic *l)
{
	uint32_t id_reg = get(l, APIC_ID);

	memset(l->regs, 0, sizeof(l->regs));
	set(l, APIC_ID, id_reg);
	set(l, APIC_LVR, LAPIC_VERSION | ((LAPIC_NR_LVT - 1) << 16));
	set(l, APIC_DFR, 0xffffffffu);
	set(l, APIC_SVR, 0xff);
	set(l, APIC_LVT_TIMER, APIC_LVT_MASKED);
	set(l, APIC_LVT_THERMAL, APIC_LVT_MASKED);
	set(l, APIC_LVT_PERF, APIC_LVT_MASKED);
	set(l, APIC_LVT_LINT0, APIC_LVT_MASKED);
	set(l, APIC_LVT_LINT1, APIC_LVT_MASKED);
	set(l, APIC_LVT_ERROR, APIC_LVT_MASKED);
	set(l, APIC_LVT_CMCI, APIC_LVT_MASKED);
	if (x2apic_mode(l))
		set(l, APIC_LDR, x2apic_ldr(l->id));
	l->timer_next_ns = UINT64_MAX;
	l->timer_period_ns = 0;
	l->tsc_deadline = 0;
	l->esr_pending = 0;
	l->extint_pending = false;
}

static void reset_locked(struct lapic *l, bool bsp)
{
	l->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | (bsp ? LAPIC_BASE_BSP : 0);
	set(l, APIC_ID, l->id << 24);
	reset_regs(l);
	l->lint_level = 0;
}

void lapic_init(struct lapic *l, uint32_t id, bool bsp, bool x2apic_supported,
		const struct lapic_ops *ops)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	if (ops)
		l->ops = *ops;
	l->id = id;
	l->x2apic_supported = x2apic_supported;
	reset_locked(l, bsp);
}

void lapic_destroy(struct lapic *l)
{
	pthread_mutex_destroy(&l->lock);
}

void lapic_reset(struct lapic *l, bool bsp)
{
	struct lapic_out o = OUT_INIT;

	pthread_mutex_lock(&l->lock);
	reset_locked(l, bsp);
	o.notify_timer = true;
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

/* ---- register access ---- */

/* The xAPIC ID as the destination logic sees it. */
static uint32_t apic_id_locked(const struct lapic *l)
{
	return x2apic_mode(l) ? l->id : get(l, APIC_ID) >> 24;
}

static bool is_register(uint32_t off)
{
	if (off & 0xf || off >= X86_LAPIC_REGS_SIZE)
		return false;
	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_TPR:
	case APIC_APR:
	case APIC_PPR:
	case APIC_EOI:
	case APIC_RRD:
	case APIC_LDR:
	case APIC_DFR:
	case APIC_SVR:
	case APIC_ESR:
	case APIC_LVT_CMCI:
	case APIC_ICR:
	case APIC_ICR2:
	case APIC_LVT_TIMER:
	case APIC_LVT_THERMAL:
	case APIC_LVT_PERF:
	case APIC_LVT_LINT0:
	case APIC_LVT_LINT1:
	case APIC_LVT_ERROR:
	case APIC_TMICT:
	case APIC_TMCCT:
	case APIC_TDCR:
		return true;
	default:
		return off >= APIC_ISR && off < APIC_ESR;
	}
}

static uint32_t read_reg(struct lapic *l, uint32_t off)
{
	switch (off) {
	case APIC_PPR:
		return compute_ppr(l);
	case APIC_TMCCT:
		return current_count(l, now_locked(l));
	case APIC_EOI:
	case APIC_APR:
	case APIC_RRD:
	case APIC_SELF_IPI:
		return 0;
	default:
		return get(l, off);
	}
}

static void send_icr(struct lapic *l, uint32_t lo, uint32_t dest, struct lapic_out *o)
{
	struct lapic_msg m = {
		.dest = dest,
		.vector = lo & APIC_VECTOR_MASK,
		.delivery = (lo & APIC_DM_MASK) >> APIC_DM_SHIFT,
		.shorthand = (lo >> APIC_ICR_SHORTHAND_SHIFT) & 3,
		.logical = lo & APIC_ICR_LOGICAL,
		.level_trig = lo & APIC_LVT_LEVEL,
		.x2apic_dest = x2apic_mode(l),
		.src = l,
	};

	switch (m.delivery) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (m.vector < 16) {
			raise_error(l, ESR_SEND_ILLEGAL_VECTOR, o);
			return;
		}
		break;
	case LAPIC_DM_INIT:
		/* INIT level de-assert: only synchronizes arbitration IDs. */
		if (m.level_trig && !(lo & APIC_ICR_LEVEL_ASSERT))
			return;
		m.level_trig = false;
		break;
	case LAPIC_DM_SMI:
	case 3:
		return;
	default:
		m.level_trig = false;
		break;
	}
	o->has_ipi = true;
	o->ipi = m;
}

static void do_eoi(struct lapic *l, struct lapic_out *o)
{
	int v = vec_highest(l, APIC_ISR);

	if (v < 0)
		return;
	vec_clear(l, APIC_ISR, (uint8_t)v);
	if (vec_test(l, APIC_TMR, (uint8_t)v))
		o->eoi_vector = v;
	update_ppr(l);
	check_pending(l, o);
}

static void mask_all_lvts(struct lapic *l)
{
	static const uint32_t lvts[] = { APIC_LVT_TIMER, APIC_LVT_THERMAL, APIC_LVT_PERF,
					 APIC_LVT_LINT0,  APIC_LVT_LINT1,   APIC_LVT_ERROR,
					 APIC_LVT_CMCI };

	for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		*reg(l, lvts[i]) |= APIC_LVT_MASKED;
}

static void write_lvt(struct lapic *l, uint32_t off, uint32_t v, uint32_t bits, struct lapic_out *o)
{
	uint32_t old = get(l, off);

	v &= bits;
	if (!sw_enabled(l))
		v |= APIC_LVT_MASKED;
	v |= old & ~bits & APIC_LVT_REMOTE_IRR;
	if (off == APIC_LVT_TIMER && timer_idle_locked(l) && !(v & APIC_LVT_MASKED))
		timer_skip_idle(l, now_locked(l)); /* ticks while masked are lost */
	set(l, off, v);
	if (off == APIC_LVT_TIMER) {
		unsigned om = (old & APIC_TIMER_MODE_MASK) >> APIC_TIMER_MODE_SHIFT;
		unsigned nm = (v & APIC_TIMER_MODE_MASK) >> APIC_TIMER_MODE_SHIFT;

		/* Mask or vector may have changed: the timer thread looks again. */
		o->notify_timer = true;

		if (om != nm) {
			if (om == LAPIC_TIMER_DEADLINE || nm == LAPIC_TIMER_DEADLINE) {
				/* A change to or from TSC-deadline mode disarms the timer. */
				set(l, APIC_TMICT, 0);
				l->timer_next_ns = UINT64_MAX;
				l->timer_period_ns = 0;
				l->tsc_deadline = 0;
			} else if (l->timer_next_ns != UINT64_MAX) {
				l->timer_period_ns =
					timer_mode(l) == LAPIC_TIMER_PERIODIC ? periodic_ns(l) : 0;
			}
			o->notify_timer = true;
		}
	}
}

/* A register write; off is a valid register offset. */
static void write_reg(struct lapic *l, uint32_t off, uint32_t v, struct lapic_out *o)
{
	uint64_t now;
	uint32_t cc;

	switch (off) {
	case APIC_ID:
		if (!x2apic_mode(l))
			set(l, APIC_ID, v & 0xff000000u);
		break;
	case APIC_TPR:
		set(l, APIC_TPR, v & 0xff);
		update_ppr(l);
		check_pending(l, o);
		break;
	case APIC_EOI:
		do_eoi(l, o);
		break;
	case APIC_LDR:
		if (!x2apic_mode(l))
			set(l, APIC_LDR, v & 0xff000000u);
		break;
	case APIC_DFR:
		if (!x2apic_mode(l))
			set(l, APIC_DFR, v | 0x0fffffffu);
		break;
	case APIC_SVR:
		set(l, APIC_SVR, v & SVR_BITS);
		if (!(v & APIC_SVR_ENABLE))
			mask_all_lvts(l);
		else
			check_pending(l, o);
		break;
	case APIC_ESR:
		set(l, APIC_ESR, l->esr_pending);
		l->esr_pending = 0;
		break;
	case APIC_ICR:
		set(l, APIC_ICR, v & ICR_LOW_BITS);
		send_icr(l, v & ICR_LOW_BITS,
			 x2apic_mode(l) ? get(l, APIC_ICR2) : get(l, APIC_ICR2) >> 24, o);
		break;
	case APIC_ICR2:
		set(l, APIC_ICR2, x2apic_mode(l) ? v : v & 0xff000000u);
		break;
	case APIC_LVT_TIMER:
		write_lvt(l, off, v, LVT_TIMER_BITS, o);
		break;
	case APIC_LVT_LINT0:
	case APIC_LVT_LINT1:
		write_lvt(l, off, v, LVT_LINT_BITS, o);
		break;
	case APIC_LVT_THERMAL:
	case APIC_LVT_PERF:
	case APIC_LVT_CMCI:
		write_lvt(l, off, v, LVT_DM_BITS, o);
		break;
	case APIC_LVT_ERROR:
		write_lvt(l, off, v, LVT_ERROR_BITS, o);
		break;
	case APIC_TMICT:
		if (timer_mode(l) == LAPIC_TIMER_DEADLINE)
			break;
		now = now_locked(l);
		set(l, APIC_TMICT, v);
		timer_start(l, v, now);
		o->notify_timer = true;
		break;
	case APIC_TDCR:
		now = now_locked(l);
		cc = current_count(l, now);
		set(l, APIC_TDCR, v & 0xb);
		/* The count in progress continues at the new rate. */
		if (l->timer_next_ns != UINT64_MAX && timer_mode(l) != LAPIC_TIMER_DEADLINE) {
			l->timer_next_ns = now + (uint64_t)cc * ns_per_count(l);
			if (l->timer_period_ns)
				l->timer_period_ns = periodic_ns(l);
			o->notify_timer = true;
		}
		break;
	case APIC_SELF_IPI:
		send_icr(l, v & 0xff, 0, o);
		o->ipi.shorthand = LAPIC_SH_SELF;
		break;
	default: /* read-only */
		break;
	}
}

uint32_t lapic_mmio_read(struct lapic *l, uint32_t offset)
{
	uint32_t v = 0;

	pthread_mutex_lock(&l->lock);
	if (hw_enabled(l) && !x2apic_mode(l) && is_register(offset))
		v = read_reg(l, offset);
	pthread_mutex_unlock(&l->lock);
	return v;
}

void lapic_mmio_write(struct lapic *l, uint32_t offset, uint32_t value)
{
	struct lapic_out o = OUT_INIT;

	pthread_mutex_lock(&l->lock);
	if (hw_enabled(l) && !x2apic_mode(l) && is_register(offset))
		write_reg(l, offset, value, &o);
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

void lapic_mmio_access(struct lapic *l, uint32_t offset, bool is_write, uint8_t *data, unsigned len)
{
	uint32_t aligned = offset & ~3u, shift = (offset & 3) * 8, v;

	offset &= LAPIC_MMIO_SIZE - 1;
	aligned &= LAPIC_MMIO_SIZE - 1;
	if (is_write) {
		if (len == 4 && !(offset & 3)) {
			memcpy(&v, data, 4);
			lapic_mmio_write(l, offset, v);
		} else if (len == 8 && !(offset & 7)) {
			memcpy(&v, data, 4); /* the low dword, as a 32-bit store */
			lapic_mmio_write(l, offset, v);
		}
		return;
	}
	v = lapic_mmio_read(l, aligned);
	for (unsigned i = 0; i < len; i++)
		data[i] = i * 8 + shift < 32 ? (uint8_t)(v >> (i * 8 + shift)) : 0;
}

uint64_t lapic_base_addr(struct lapic *l)
{
	uint64_t b;

	pthread_mutex_lock(&l->lock);
	b = l->apic_base & LAPIC_BASE_ADDR_MASK;
	pthread_mutex_unlock(&l->lock);
	return b;
}

bool lapic_mmio_enabled(struct lapic *l)
{
	bool r;

	pthread_mutex_lock(&l->lock);
	r = hw_enabled(l) && !x2apic_mode(l);
	pthread_mutex_unlock(&l->lock);
	return r;
}

bool lapic_is_x2apic(struct lapic *l)
{
	bool r;

	pthread_mutex_lock(&l->lock);
	r = x2apic_mode(l);
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* IA32_APIC_BASE write: false on a reserved bit or an invalid mode change. */
static bool set_base(struct lapic *l, uint64_t v, struct lapic_out *o)
{
	uint64_t reserved =
		~(LAPIC_BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_EN | LAPIC_BASE_EXTD);
	bool was_en = hw_enabled(l), was_x2 = x2apic_mode(l);
	bool en = v & LAPIC_BASE_EN, x2 = (v & LAPIC_BASE_EXTD) != 0;

	if (v & reserved)
		return false;
	if (x2 && (!l->x2apic_supported || !en))
		return false;
	if (was_x2 && en && !x2)
		return false; /* x2APIC -> xAPIC must go through disabled */
	if (!was_en && en && x2)
		return false; /* disabled -> x2APIC must go through xAPIC */
	v = (v & ~LAPIC_BASE_BSP) | (l->apic_base & LAPIC_BASE_BSP);
	l->apic_base = v;
	if (was_en && !en) {
		/* Global disable: the APIC returns to its power-up state. */
		set(l, APIC_ID, l->id << 24);
		reset_regs(l);
		o->notify_timer = true;
	} else if (!was_x2 && x2) {
		set(l, APIC_ID, l->id);
		set(l, APIC_LDR, x2apic_ldr(l->id));
		set(l, APIC_DFR, 0);
	}
	return true;
}

static bool x2apic_read(struct lapic *l, uint32_t off, uint64_t *value)
{
	switch (off) {
	case APIC_APR:
	case APIC_RRD:
	case APIC_DFR:
	case APIC_ICR2:
	case APIC_EOI:
	case APIC_SELF_IPI:
		return false;
	case APIC_ICR:
		*value = ((uint64_t)get(l, APIC_ICR2) << 32) | get(l, APIC_ICR);
		return true;
	default:
		if (!is_register(off))
			return false;
		*value = read_reg(l, off);
		return true;
	}
}

static bool x2apic_write(struct lapic *l, uint32_t off, uint64_t v, struct lapic_out *o)
{
	if (off == APIC_ICR) {
		if ((uint32_t)v & 0xfff33000u)
			return false;
		set(l, APIC_ICR2, (uint32_t)(v >> 32));
		write_reg(l, APIC_ICR, (uint32_t)v, o);
		return true;
	}
	if (v >> 32)
		return false;
	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_PPR:
	case APIC_LDR:
	case APIC_TMCCT:
	case APIC_APR:
	case APIC_RRD:
	case APIC_DFR:
	case APIC_ICR2:
		return false;
	case APIC_EOI:
	case APIC_ESR:
		if (v)
			return false;
		break;
	case APIC_SELF_IPI:
		if (v & ~0xffULL)
			return false;
		break;
	default:
		if (!is_register(off) || (off >= APIC_ISR && off < APIC_ESR))
			return false;
		break;
	}
	write_reg(l, off, (uint32_t)v, o);
	return true;
}

static bool is_x2apic_msr(uint32_t index)
{
	return index >= LAPIC_MSR_X2APIC_FIRST && index <= LAPIC_MSR_X2APIC_LAST;
}

bool lapic_msr_read(struct lapic *l, uint32_t index, uint64_t *value)
{
	bool ok = true;

	pthread_mutex_lock(&l->lock);
	if (index == LAPIC_MSR_APIC_BASE) {
		*value = l->apic_base;
	} else if (index == LAPIC_MSR_TSC_DEADLINE) {
		bool dl = hw_enabled(l) && timer_mode(l) == LAPIC_TIMER_DEADLINE;

		*value = dl ? l->tsc_deadline : 0;
	} else if (is_x2apic_msr(index) && x2apic_mode(l)) {
		ok = x2apic_read(l, (index - LAPIC_MSR_X2APIC_FIRST) << 4, value);
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

bool lapic_msr_write(struct lapic *l, uint32_t index, uint64_t value)
{
	struct lapic_out o = OUT_INIT;
	bool ok = true;

	pthread_mutex_lock(&l->lock);
	if (index == LAPIC_MSR_APIC_BASE) {
		ok = set_base(l, value, &o);
	} else if (index == LAPIC_MSR_TSC_DEADLINE) {
		/* Ignored outside TSC-deadline mode. */
		if (hw_enabled(l) && timer_mode(l) == LAPIC_TIMER_DEADLINE) {
			l->tsc_deadline = value;
			timer_check(l, now_locked(l), &o);
			o.notify_timer = true;
		}
	} else if (is_x2apic_msr(index) && x2apic_mode(l)) {
		ok = x2apic_write(l, (index - LAPIC_MSR_X2APIC_FIRST) << 4, value, &o);
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
	return ok;
}

void lapic_set_tpr(struct lapic *l, uint8_t tpr)
{
	struct lapic_out o = OUT_INIT;

	pthread_mutex_lock(&l->lock);
	write_reg(l, APIC_TPR, tpr, &o);
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

uint8_t lapic_get_tpr(struct lapic *l)
{
	uint8_t t;

	pthread_mutex_lock(&l->lock);
	t = (uint8_t)get(l, APIC_TPR);
	pthread_mutex_unlock(&l->lock);
	return t;
}

void lapic_set_tsc_offset(struct lapic *l, int64_t offset)
{
	pthread_mutex_lock(&l->lock);
	l->tsc_offset = offset;
	pthread_mutex_unlock(&l->lock);
}

/* ---- the CPU side ---- */

void lapic_accept_irq(struct lapic *l, uint8_t vector, bool level_trig)
{
	struct lapic_msg m = {
		.vector = vector,
		.delivery = LAPIC_DM_FIXED,
		.level_trig = level_trig,
	};

	lapic_deliver(l, &m);
}

int lapic_pending_vector(struct lapic *l)
{
	int v;

	pthread_mutex_lock(&l->lock);
	v = pending_locked(l);
	pthread_mutex_unlock(&l->lock);
	return v;
}

int lapic_ack(struct lapic *l)
{
	struct lapic_out o = OUT_INIT;
	int v;

	pthread_mutex_lock(&l->lock);
	v = pending_locked(l);
	if (v >= 0) {
		bool idle = timer_idle_locked(l);

		vec_clear(l, APIC_IRR, (uint8_t)v);
		vec_set(l, APIC_ISR, (uint8_t)v);
		update_ppr(l);
		if (idle && !timer_idle_locked(l)) {
			/* The timer's vector taken: its next tick counts again. */
			timer_skip_idle(l, now_locked(l));
			o.notify_timer = true;
		}
	}
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
	return v;
}

uint64_t lapic_next_timer_ns(struct lapic *l)
{
	uint64_t t;

	pthread_mutex_lock(&l->lock);
	t = next_timer_locked(l);
	pthread_mutex_unlock(&l->lock);
	return t;
}

uint64_t lapic_next_timer_event_ns(struct lapic *l)
{
	uint64_t t;

	pthread_mutex_lock(&l->lock);
	t = timer_idle_locked(l) ? UINT64_MAX : next_timer_locked(l);
	pthread_mutex_unlock(&l->lock);
	return t;
}

void lapic_timer_advance(struct lapic *l, uint64_t now_ns)
{
	struct lapic_out o = OUT_INIT;

	pthread_mutex_lock(&l->lock);
	if (now_ns > l->last_now)
		l->last_now = now_ns;
	timer_check(l, now_ns, &o);
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

void lapic_set_lint(struct lapic *l, unsigned pin, bool level)
{
	struct lapic_out o = OUT_INIT;
	uint32_t lvt;
	uint8_t bit = pin ? 2 : 1;
	bool rising;

	pthread_mutex_lock(&l->lock);
	rising = level && !(l->lint_level & bit);
	l->lint_level = level ? (l->lint_level | bit) : (l->lint_level & ~bit);
	lvt = get(l, pin ? APIC_LVT_LINT1 : APIC_LVT_LINT0);
	if (hw_enabled(l) && !(lvt & APIC_LVT_MASKED)) {
		switch ((lvt & APIC_DM_MASK) >> APIC_DM_SHIFT) {
		case LAPIC_DM_FIXED:
			if (rising || (level && (lvt & APIC_LVT_LEVEL))) {
				uint8_t vec = lvt & APIC_VECTOR_MASK;

				if (vec >= 16)
					set_irr(l, vec, lvt & APIC_LVT_LEVEL, &o);
			}
			break;
		case LAPIC_DM_NMI:
			o.notify_nmi = rising;
			break;
		case LAPIC_DM_EXTINT:
			o.notify_extint = level;
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

bool lapic_accepts_pic(struct lapic *l)
{
	uint32_t lvt0;
	bool r;

	pthread_mutex_lock(&l->lock);
	lvt0 = get(l, APIC_LVT_LINT0);
	r = !hw_enabled(l) ||
	    (!(lvt0 & APIC_LVT_MASKED) &&
	     ((lvt0 & APIC_DM_MASK) >> APIC_DM_SHIFT) == LAPIC_DM_EXTINT);
	pthread_mutex_unlock(&l->lock);
	return r;
}

bool lapic_take_extint(struct lapic *l)
{
	bool r;

	pthread_mutex_lock(&l->lock);
	r = l->extint_pending;
	l->extint_pending = false;
	pthread_mutex_unlock(&l->lock);
	return r;
}

bool lapic_extint_pending(struct lapic *l)
{
	bool r;

	pthread_mutex_lock(&l->lock);
	r = l->extint_pending;
	pthread_mutex_unlock(&l->lock);
	return r;
}

/* ---- the bus ---- */

static bool match_logical(const struct lapic *t, uint32_t dest)
{
	if (x2apic_mode(t)) {
		uint32_t ldr = get(t, APIC_LDR);

		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	uint32_t ldr = get(t, APIC_LDR) >> 24;

	if ((get(t, APIC_DFR) >> 28) == 0xf) /* flat */
		return (dest & ldr & 0xff) != 0;
	/* cluster */
	return ((dest >> 4) & 0xf) == (ldr >> 4) && (dest & ldr & 0xf);
}

bool lapic_match(struct lapic *target, const struct lapic_msg *msg)
{
	uint32_t bcast = msg->x2apic_dest ? 0xffffffffu : 0xffu;
	bool r;

	switch (msg->shorthand) {
	case LAPIC_SH_SELF:
		return target == msg->src;
	case LAPIC_SH_ALL:
		return true;
	case LAPIC_SH_ALL_BUT_SELF:
		return target != msg->src;
	default:
		break;
	}
	if (msg->dest == bcast)
		return true;
	pthread_mutex_lock(&target->lock);
	if (!hw_enabled(target))
		r = false;
	else if (msg->logical)
		r = match_logical(target, msg->dest);
	else
		r = msg->dest == apic_id_locked(target);
	pthread_mutex_unlock(&target->lock);
	return r;
}

void lapic_deliver(struct lapic *target, const struct lapic_msg *msg)
{
	struct lapic *l = target;
	struct lapic_out o = OUT_INIT;

	pthread_mutex_lock(&l->lock);
	if (!hw_enabled(l))
		goto out;
	switch (msg->delivery) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		if (!sw_enabled(l))
			break;
		if (msg->vector < 16) {
			raise_error(l, ESR_RECV_ILLEGAL_VECTOR, &o);
			break;
		}
		set_irr(l, msg->vector, msg->level_trig, &o);
		break;
	case LAPIC_DM_NMI:
		o.notify_nmi = true;
		break;
	case LAPIC_DM_INIT:
		reset_regs(l);
		o.notify_init = true;
		o.notify_timer = true;
		break;
	case LAPIC_DM_SIPI:
		o.notify_sipi = true;
		o.sipi_vector = msg->vector;
		break;
	case LAPIC_DM_EXTINT:
		l->extint_pending = true;
		o.notify_extint = true;
		break;
	default: /* SMI and reserved modes are dropped */
		break;
	}
out:
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}

unsigned lapic_route(struct lapic *const *lapics, unsigned n, const struct lapic_msg *msg)
{
	unsigned hits = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!lapics[i] || !lapic_match(lapics[i], msg))
			continue;
		lapic_deliver(lapics[i], msg);
		hits++;
		if (msg->delivery == LAPIC_DM_LOWEST)
			break;
	}
	return hits;
}

/* ---- snapshots ---- */

void lapic_save(struct lapic *l, struct x86_cpu_state *s, struct lapic_snap *snap)
{
	uint64_t now;

	pthread_mutex_lock(&l->lock);
	now = now_locked(l);
	update_ppr(l);
	set(l, APIC_TMCCT, current_count(l, now));
	memcpy(s->lapic, l->regs, X86_LAPIC_REGS_SIZE);
	set(l, APIC_TMCCT, 0);
	s->apic_id = l->id;
	s->msr.apic_base = l->apic_base;
	s->msr.tsc_deadline = l->tsc_deadline;
	memset(snap, 0, sizeof(*snap));
	/* TSC-deadline mode: the deadline is msr.tsc_deadline, nothing runs here. */
	if (l->timer_next_ns == UINT64_MAX || timer_mode(l) == LAPIC_TIMER_DEADLINE)
		snap->timer_remaining_ns = UINT64_MAX;
	else
		snap->timer_remaining_ns = l->timer_next_ns > now ? l->timer_next_ns - now : 0;
	snap->timer_period_ns = l->timer_period_ns;
	snap->esr_pending = l->esr_pending;
	snap->lint_level = l->lint_level;
	pthread_mutex_unlock(&l->lock);
}

void lapic_restore(struct lapic *l, const struct x86_cpu_state *s, const struct lapic_snap *snap)
{
	struct lapic_out o = OUT_INIT;
	uint64_t now;

	pthread_mutex_lock(&l->lock);
	now = now_locked(l);
	memcpy(l->regs, s->lapic, X86_LAPIC_REGS_SIZE);
	set(l, APIC_TMCCT, 0);
	set(l, APIC_LVR, LAPIC_VERSION | ((LAPIC_NR_LVT - 1) << 16));
	/* Vectors 0-15 are never pending or in service. */
	*vec_word(l, APIC_IRR, 0) &= ~0xffffu;
	*vec_word(l, APIC_ISR, 0) &= ~0xffffu;
	*vec_word(l, APIC_TMR, 0) &= ~0xffffu;
	l->id = s->apic_id;
	l->apic_base = s->msr.apic_base;
	if (!l->x2apic_supported)
		l->apic_base &= ~LAPIC_BASE_EXTD;
	if (!hw_enabled(l))
		l->apic_base &= ~LAPIC_BASE_EXTD;
	l->tsc_deadline = s->msr.tsc_deadline;
	l->esr_pending = snap->esr_pending;
	l->lint_level = snap->lint_level & 3;
	if (snap->timer_remaining_ns == UINT64_MAX || timer_mode(l) == LAPIC_TIMER_DEADLINE) {
		l->timer_next_ns = UINT64_MAX;
		l->timer_period_ns = 0;
	} else {
		uint64_t rem = snap->timer_remaining_ns;

		/* A snapshot is data: keep the arithmetic in range. */
		if (rem > (1ULL << 48))
			rem = 1ULL << 48;
		l->timer_next_ns = now + rem;
		l->timer_period_ns = snap->timer_period_ns;
		if (timer_mode(l) != LAPIC_TIMER_PERIODIC)
			l->timer_period_ns = 0;
		else if (l->timer_period_ns < LAPIC_MIN_PERIOD_NS)
			l->timer_period_ns = LAPIC_MIN_PERIOD_NS;
		else if (l->timer_period_ns > (1ULL << 48))
			l->timer_period_ns = 1ULL << 48; /* next += period stays far from wrapping */
	}
	update_ppr(l);
	check_pending(l, &o);
	o.notify_timer = true;
	pthread_mutex_unlock(&l->lock);
	flush(l, &o);
}
