// SPDX-License-Identifier: Apache-2.0
/*
 * Split virtqueues, device side (virtio 1.2, section 2.7).
 *
 * Ring layout in guest memory (all fields little-endian):
 *   descriptor table  size * 16 bytes, 16-byte aligned
 *                     { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring    6 + 2 * size bytes, 2-byte aligned
 *                     { le16 flags; le16 idx; le16 ring[size]; le16 used_event; }
 *   used ring         6 + 8 * size bytes, 4-byte aligned
 *                     { le16 flags; le16 idx; { le32 id; le32 len; } ring[size];
 *                       le16 avail_event; }
 *
 * The driver writes the descriptor table and the available ring while we
 * read them, so every guest field is read exactly once into a local
 * (a relaxed atomic load for the 16-bit ring fields, memcpy for
 * descriptors) and the local is what gets checked and used.
 *
 * Chain rules (anything else breaks the queue, see queue.h):
 * - A chain holds at most `size` buffer descriptors, direct and indirect
 *   together; the descriptor that points at an indirect table is not a
 *   buffer and is not counted. A loop therefore ends as "chain too long".
 * - An indirect table is 16 * n bytes with 1 <= n <= size, lies in RAM
 *   (no alignment required), and its chain starts at entry 0 and follows
 *   `next` inside the table. Its descriptors must not be INDIRECT.
 * - INDIRECT needs VIRTIO_F_INDIRECT_DESC and must not be combined with
 *   NEXT (the spec forbids it; the indirect descriptor ends the direct
 *   chain). Its WRITE flag is ignored, as the spec requires.
 * - Device-writable descriptors follow all device-readable ones.
 * - Zero-length descriptors are accepted and produce no segment; their
 *   address is not looked at (nothing is ever accessed through it).
 * - Every other descriptor becomes one iovec through guest_mem_ptr(), so
 *   [addr, addr + len) is inside one RAM region and does not wrap.
 * - At most VIRTQ_MAX_SEGS segments in each direction, and at most
 *   UINT32_MAX bytes in the whole chain (the spec's 2^32 limit, kept to
 *   what the used ring's 32-bit length can report).
 */
#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

#define VIRTQ_DESC_BYTES 16

/* Offsets inside the rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4
#define USED_ELEM_BYTES 8

struct vdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static uint64_t desc_bytes(uint16_t size)
{
	return (uint64_t)size * VIRTQ_DESC_BYTES;
}

static uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2 * (uint64_t)size;
}

static uint64_t used_bytes(uint16_t size)
{
	return 6 + (uint64_t)size * USED_ELEM_BYTES;
}

/* 16-bit ring fields: aligned (checked by virtq_init), shared with the guest. */
static uint16_t ring_load16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static void ring_store16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void ring_store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

/* One read of a descriptor the guest may be rewriting; any alignment. */
static void desc_load(const uint8_t *p, struct vdesc *d)
{
	uint8_t raw[VIRTQ_DESC_BYTES];
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;

	memcpy(raw, p, sizeof(raw));
	memcpy(&addr, raw, 8);
	memcpy(&len, raw + 8, 4);
	memcpy(&flags, raw + 12, 2);
	memcpy(&next, raw + 14, 2);
	d->addr = le64toh(addr);
	d->len = le32toh(len);
	d->flags = le16toh(flags);
	d->next = le16toh(next);
}

/* Marks the queue broken; says why at debug level (the device logs once). */
static int virtq_fail(struct virtq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int virtq_fail(struct virtq *q, const char *fmt, ...)
{
	q->broken = true;
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		char why[160];
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		log_debug("virtq", "queue broken: %s", why);
	}
	return -EIO;
}

static uint8_t *avail_ring(const struct virtq *q)
{
	return guest_mem_ptr(q->mem, q->avail_gpa, avail_bytes(q->size));
}

static uint8_t *used_ring(const struct virtq *q)
{
	return guest_mem_ptr(q->mem, q->used_gpa, used_bytes(q->size));
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_init(struct virtq *q, const struct guest_mem *mem, uint16_t size, gpa_t desc,
	       gpa_t avail, gpa_t used, bool event_idx, bool indirect)
{
	virtq_reset(q);
	if (!mem || size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if (desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	if (!guest_mem_ptr(mem, desc, desc_bytes(size)) ||
	    !guest_mem_ptr(mem, avail, avail_bytes(size)) ||
	    !guest_mem_ptr(mem, used, used_bytes(size)))
		return -EFAULT;
	q->mem = mem;
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	/* Nothing used yet, and the driver knows it: no interrupt owed. */
	q->signalled_used = 0;
	q->signalled_used_valid = true;
	return 0;
}

/* State of one chain walk. */
struct chain {
	struct virtq *q;
	struct virtq_elem *e;
	unsigned ndesc;	 /* buffer descriptors so far */
	bool writable;	 /* a device-writable descriptor was seen */
	uint64_t total;	 /* bytes in the whole chain */
};

/* Adds one buffer descriptor (not an indirect one) to the element. */
static int chain_add(struct chain *c, const struct vdesc *d)
{
	struct virtq_elem *e = c->e;
	bool wr = d->flags & VIRTQ_DESC_F_WRITE;
	void *p;

	if (++c->ndesc > c->q->size)
		return virtq_fail(c->q, "chain of head %u longer than the queue (%u)", e->head,
				  c->q->size);
	if (wr)
		c->writable = true;
	else if (c->writable)
		return virtq_fail(c->q, "chain of head %u: readable descriptor after a writable one",
				  e->head);
	if (d->len == 0)
		return 0;
	c->total += d->len; /* <= size * UINT32_MAX: no overflow in 64 bits */
	if (c->total > UINT32_MAX)
		return virtq_fail(c->q, "chain of head %u longer than 4 GiB", e->head);
	p = guest_mem_ptr(c->q->mem, d->addr, d->len);
	if (!p)
		return virtq_fail(c->q, "chain of head %u: buffer 0x%llx+0x%x outside RAM", e->head,
				  (unsigned long long)d->addr, (unsigned)d->len);
	if (wr) {
		if (e->nin == VIRTQ_MAX_SEGS)
			return virtq_fail(c->q, "chain of head %u: too many writable segments",
					  e->head);
		e->in[e->nin].iov_base = p;
		e->in[e->nin].iov_len = d->len;
		e->nin++;
		/* The device will write it (the software CPU drops code decoded there). */
		guest_mem_written(c->q->mem, d->addr, d->len);
		e->in_len += d->len;
	} else {
		if (e->nout == VIRTQ_MAX_SEGS)
			return virtq_fail(c->q, "chain of head %u: too many readable segments",
					  e->head);
		e->out[e->nout].iov_base = p;
		e->out[e->nout].iov_len = d->len;
		e->nout++;
		e->out_len += d->len;
	}
	return 0;
}

/* Walks the indirect table that `ind` points at; it ends the chain. */
static int chain_indirect(struct chain *c, const struct vdesc *ind)
{
	struct virtq *q = c->q;
	const uint8_t *table;
	uint32_t n, i = 0;
	struct vdesc d;
	int ret;

	if (!q->indirect)
		return virtq_fail(q, "head %u: indirect descriptor without VIRTIO_F_INDIRECT_DESC",
				  c->e->head);
	if (ind->flags & VIRTQ_DESC_F_NEXT)
		return virtq_fail(q, "head %u: indirect descriptor with NEXT", c->e->head);
	if (ind->len == 0 || ind->len % VIRTQ_DESC_BYTES || ind->len > desc_bytes(q->size))
		return virtq_fail(q, "head %u: indirect table of %u bytes", c->e->head,
				  (unsigned)ind->len);
	n = ind->len / VIRTQ_DESC_BYTES;
	table = guest_mem_ptr(q->mem, ind->addr, ind->len);
	if (!table)
		return virtq_fail(q, "head %u: indirect table 0x%llx+0x%x outside RAM", c->e->head,
				  (unsigned long long)ind->addr, (unsigned)ind->len);
	for (;;) {
		desc_load(table + (uint64_t)i * VIRTQ_DESC_BYTES, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return virtq_fail(q, "head %u: indirect descriptor in an indirect table",
					  c->e->head);
		ret = chain_add(c, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= n)
			return virtq_fail(q, "head %u: indirect next %u outside a table of %u",
					  c->e->head, i, n);
	}
}

static int chain_walk(struct virtq *q, const uint8_t *table, struct virtq_elem *e)
{
	struct chain c = { .q = q, .e = e };
	uint16_t i = e->head;
	struct vdesc d;
	int ret;

	for (;;) {
		if (i >= q->size)
			return virtq_fail(q, "head %u: next %u outside the table", e->head, i);
		desc_load(table + (uint64_t)i * VIRTQ_DESC_BYTES, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return chain_indirect(&c, &d);
		ret = chain_add(&c, &d);
		if (ret)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_elem *elem)
{
	const uint8_t *avail, *table;
	uint16_t idx, pending, head;
	int ret;

	if (q->broken)
		return -EIO;
	if (!q->size)
		return 0;
	avail = avail_ring(q);
	table = guest_mem_ptr(q->mem, q->desc_gpa, desc_bytes(q->size));
	if (!avail || !table)
		return virtq_fail(q, "rings no longer in RAM");
	idx = ring_load16(avail + AVAIL_IDX);
	pending = (uint16_t)(idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->size)
		return virtq_fail(q, "avail idx %u is %u entries ahead of %u (queue size %u)", idx,
				  pending, q->last_avail, q->size);
	/* The ring entry and the descriptors were written before idx. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = ring_load16(avail + AVAIL_RING + 2 * (uint64_t)(q->last_avail & (q->size - 1)));
	if (head >= q->size)
		return virtq_fail(q, "avail entry %u: head %u outside a table of %u",
				  q->last_avail, head, q->size);
	elem->head = head;
	elem->nout = elem->nin = 0;
	elem->out_len = elem->in_len = 0;
	ret = chain_walk(q, table, elem);
	if (ret)
		return ret;
	q->last_avail++;
	return 1;
}

/*
 * Marks dirty the first `len` bytes of the device-writable buffers of
 * chain `head` (what the device wrote), while pages are being logged.
 * Popping marked them already, but a device may write a buffer after
 * the log was collected (a migration round, a snapshot) and before it
 * pushes; this marks them again once written. Runs on descriptors the
 * guest may have changed since the pop: bounded, never fails the queue,
 * at worst marks other guest pages (harmless).
 */
void virtq_mark_written(struct virtq *q, uint16_t head, uint32_t len)
{
	const uint8_t *table, *ind = NULL;
	uint32_t n = q->size, i = head, steps = 0;
	struct vdesc d;

	/* Nothing to do, and no walk on the hot path, unless pages are logged. */
	if (!__atomic_load_n(&q->mem->dirty, __ATOMIC_ACQUIRE))
		return;
	table = guest_mem_ptr(q->mem, q->desc_gpa, desc_bytes(q->size));
	if (!table)
		return;
	while (len && i < n && steps++ <= 2u * q->size) {
		desc_load((ind ? ind : table) + (uint64_t)i * VIRTQ_DESC_BYTES, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (ind || d.len % VIRTQ_DESC_BYTES || !d.len || d.len > desc_bytes(q->size))
				return;
			ind = guest_mem_ptr(q->mem, d.addr, d.len);
			if (!ind)
				return;
			n = d.len / VIRTQ_DESC_BYTES;
			i = 0;
			continue;
		}
		if (d.flags & VIRTQ_DESC_F_WRITE) {
			uint32_t l = d.len < len ? d.len : len;

			if (l && guest_mem_ptr(q->mem, d.addr, l))
				guest_mem_mark_dirty(q->mem, d.addr, l);
			len -= l;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return;
		i = d.next;
	}
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t *used, *slot;

	if (q->broken || !q->size)
		return -EIO;
	if (head >= q->size)
		return virtq_fail(q, "push of head %u outside a table of %u", head, q->size);
	used = used_ring(q);
	if (!used)
		return virtq_fail(q, "used ring no longer in RAM");
	virtq_mark_written(q, head, len);
	slot = used + USED_RING + (uint64_t)(q->used_idx & (q->size - 1)) * USED_ELEM_BYTES;
	ring_store32(slot, head);
	ring_store32(slot + 4, len);
	q->used_idx++;
	/* The element is visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ring_store16(used + USED_IDX, q->used_idx);
	/* Host writes into guest RAM: the dirty log and the soft CPU must know. */
	guest_mem_written(q->mem, q->used_gpa + USED_RING +
					  (uint64_t)((q->used_idx - 1) & (q->size - 1)) * USED_ELEM_BYTES,
			  USED_ELEM_BYTES);
	guest_mem_written(q->mem, q->used_gpa + USED_IDX, 2);
	return 0;
}

/* virtio's vring_need_event(): did [old, new) pass event? */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool virtq_needs_interrupt(struct virtq *q)
{
	const uint8_t *avail;
	uint16_t old = q->signalled_used, new_idx = q->used_idx;
	bool valid = q->signalled_used_valid;

	if (q->broken || !q->size)
		return false;
	avail = avail_ring(q);
	if (!avail)
		return false;
	q->signalled_used = new_idx;
	q->signalled_used_valid = true;
	if (valid && old == new_idx)
		return false; /* nothing used since the last check */
	/* Our used idx store before the driver's flags / used_event load. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(ring_load16(avail + AVAIL_FLAGS) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	return need_event(ring_load16(avail + AVAIL_RING + 2 * (uint64_t)q->size), new_idx, old);
}

void virtq_set_notify(struct virtq *q, bool enable)
{
	uint8_t *used;

	if (q->broken || !q->size)
		return;
	used = used_ring(q);
	if (!used)
		return;
	if (q->event_idx) {
		/*
		 * flags must stay 0. Enabling asks for a kick once the driver
		 * writes entry last_avail; disabling leaves avail_event behind
		 * the driver's idx, so no kick comes until it is moved again.
		 */
		if (enable) {
			ring_store16(used + USED_RING + USED_ELEM_BYTES * (uint64_t)q->size,
				     q->last_avail);
			guest_mem_written(q->mem,
					  q->used_gpa + USED_RING + USED_ELEM_BYTES * (uint64_t)q->size,
					  2);
		}
	} else {
		ring_store16(used + USED_FLAGS, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
		guest_mem_written(q->mem, q->used_gpa + USED_FLAGS, 2);
	}
	/* The store above before the caller's next read of avail idx. */
	if (enable)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_work(struct virtq *q)
{
	const uint8_t *avail;

	if (q->broken || !q->size)
		return false;
	avail = avail_ring(q);
	if (!avail)
		return false;
	return ring_load16(avail + AVAIL_IDX) != q->last_avail;
}

bool virtq_rearm(struct virtq *q)
{
	virtq_set_notify(q, true);
	if (!virtq_has_work(q))
		return false;
	virtq_set_notify(q, false);
	return true;
}

uint64_t iov_to_buf(const struct iovec *iov, unsigned n, uint64_t skip, void *buf, uint64_t len)
{
	uint8_t *out = buf;
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len, chunk;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		chunk = l - skip;
		if (chunk > len - done)
			chunk = len - done;
		memcpy(out + done, (const uint8_t *)iov[i].iov_base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

uint64_t iov_from_buf(const struct iovec *iov, unsigned n, uint64_t skip, const void *buf,
		      uint64_t len)
{
	const uint8_t *in = buf;
	uint64_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		uint64_t l = iov[i].iov_len, chunk;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		chunk = l - skip;
		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)iov[i].iov_base + skip, in + done, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

void virtq_unpop(struct virtq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

/* ---- snapshots ---- */

uint16_t virtq_in_flight(const struct virtq *q)
{
	return (uint16_t)(q->last_avail - q->used_idx);
}

int virtq_restore(struct virtq *q, uint16_t last_avail, uint16_t used_idx,
		  uint16_t signalled_used, bool signalled_used_valid, bool broken)
{
	if (!q->size || (uint16_t)(last_avail - used_idx) > q->size)
		return -EINVAL;
	q->last_avail = last_avail;
	q->used_idx = used_idx;
	q->signalled_used = signalled_used;
	q->signalled_used_valid = signalled_used_valid;
	q->broken = broken;
	return 0;
}
