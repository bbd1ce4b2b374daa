// SPDX-License-Identifier: Apache-2.0
/*
 * Memory of the software CPU: page walks (32-bit, PAE, 4-level) with
 * U/S, R/W, NX, WP, SMEP/SMAP and accessed/dirty bits, the software TLB
 * (direct mapped, one table per access kind, tags keyed by linear page
 * and user bit), data accesses for handlers, MMIO routing, and the
 * process-wide tracking of guest pages that hold decoded code.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "accel/soft/cpu_internal.h"

/* ---- Code-page tracking ------------------------------------------------------
 *
 * One 32-bit word per guest RAM page: bit 0 set = the page holds decoded
 * code; the rest counts writes that invalidated it. A decoded block
 * remembers the word it saw and is valid only while the word is unchanged.
 * A write to a page with bit 0 set adds one (clearing bit 0, bumping the
 * count): every CPU's blocks of that page are stale from then on.
 */
static struct {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	_Atomic uint32_t *words;
	uint64_t first[GUEST_MEM_MAX_REGIONS]; /* first word index of each region */
	unsigned refs;
} code = { .lock = PTHREAD_MUTEX_INITIALIZER };

int soft_code_register(const struct guest_mem *mem)
{
	int ret = 0;

	pthread_mutex_lock(&code.lock);
	if (code.refs && code.mem != mem) {
		/* A new machine: its CPUs run on a new table (tests). */
		free((void *)(uintptr_t)code.words);
		code.words = NULL;
		code.refs = 0;
	}
	if (!code.refs) {
		uint64_t n = 0;

		for (unsigned i = 0; i < mem->nregions && i < GUEST_MEM_MAX_REGIONS; i++) {
			code.first[i] = n;
			n += (mem->regions[i].size + 4095) >> 12;
		}
		code.words = calloc(n ? n : 1, sizeof(*code.words));
		if (!code.words)
			ret = -ENOMEM;
		code.mem = mem;
	}
	if (!ret)
		code.refs++;
	pthread_mutex_unlock(&code.lock);
	return ret;
}

void soft_code_unregister(void)
{
	pthread_mutex_lock(&code.lock);
	if (code.refs && --code.refs == 0) {
		free((void *)(uintptr_t)code.words);
		code.words = NULL;
		code.mem = NULL;
	}
	pthread_mutex_unlock(&code.lock);
}

_Atomic uint32_t *soft_code_word(uint64_t gpa)
{
	const struct guest_mem *mem = code.mem;

	if (!mem || !code.words)
		return NULL;
	for (unsigned i = 0; i < mem->nregions && i < GUEST_MEM_MAX_REGIONS; i++) {
		const struct guest_region *r = &mem->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return &code.words[code.first[i] + ((gpa - r->gpa) >> 12)];
	}
	return NULL;
}

uint32_t soft_code_mark(uint64_t gpa)
{
	_Atomic uint32_t *w = soft_code_word(gpa);

	if (!w)
		return 0;
	return atomic_fetch_or_explicit(w, 1u, memory_order_acq_rel) | 1u;
}

/* Invalidates the page's code if it holds any; true when it did. */
static bool code_write(_Atomic uint32_t *w)
{
	uint32_t v = atomic_load_explicit(w, memory_order_relaxed);

	while (v & 1) {
		if (atomic_compare_exchange_weak_explicit(w, &v, v + 1, memory_order_acq_rel,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

void soft_code_invalidate(uint64_t gpa, uint64_t len)
{
	const struct guest_mem *mem = code.mem;

	if (!len || !code.words || !mem)
		return;
	uint64_t end = gpa + len - 1;

	if (end < gpa)
		end = UINT64_MAX;
	/* Only the RAM part of the range: the loop is bounded by RAM size. */
	for (unsigned i = 0; i < mem->nregions && i < GUEST_MEM_MAX_REGIONS; i++) {
		const struct guest_region *r = &mem->regions[i];
		uint64_t lo = gpa > r->gpa ? gpa : r->gpa;
		uint64_t hi = end < r->gpa + r->size - 1 ? end : r->gpa + r->size - 1;

		if (!r->size || lo > hi)
			continue;
		for (uint64_t pg = (lo - r->gpa) >> 12; pg <= (hi - r->gpa) >> 12; pg++)
			code_write(&code.words[code.first[i] + pg]);
	}
}

/* The CPU wrote to a page that may hold code. */
static void cpu_code_write(struct soft_cpu *cpu, _Atomic uint32_t *w)
{
	if (w && code_write(w)) {
		cpu->stats.code_invalidations++;
		cpu->stop_block = true;
	}
}

/* ---- TLB ------------------------------------------------------------------ */

void soft_tlb_flush(struct soft_cpu *cpu, bool global_too)
{
	cpu->tlb_epoch++;
	if (global_too)
		cpu->tlb_epoch_g++;
	for (unsigned a = 0; a < 3; a++)
		for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
			struct soft_tlb_entry *e = &cpu->tlb[a][i];

			if (global_too || !e->global)
				e->tag = SOFT_TLB_INVALID;
		}
	if (global_too)
		cpu->tlb_max_shift = 12;
}

void soft_tlb_drop_writes(struct soft_cpu *cpu)
{
	for (unsigned i = 0; i < SOFT_TLB_SIZE; i++)
		cpu->tlb[SOFT_ACC_WRITE][i].tag = SOFT_TLB_INVALID;
}

/*
 * INVLPG: the entries of the guest page that maps linear (all 4 KiB
 * pieces of a large page), and the jump-cache entries that may have come
 * through it; the epochs stay, so the rest of the jump cache survives.
 */
void soft_tlb_flush_page(struct soft_cpu *cpu, uint64_t linear)
{
	unsigned shift = cpu->tlb_max_shift;

	if (shift <= 12) {
		for (unsigned a = 0; a < 3; a++) {
			struct soft_tlb_entry *e = &cpu->tlb[a][(linear >> 12) & (SOFT_TLB_SIZE - 1)];

			if ((e->tag & SOFT_PAGE_MASK) == (linear & SOFT_PAGE_MASK))
				e->tag = SOFT_TLB_INVALID;
		}
	} else {
		for (unsigned a = 0; a < 3; a++)
			for (unsigned i = 0; i < SOFT_TLB_SIZE; i++) {
				struct soft_tlb_entry *e = &cpu->tlb[a][i];

				if (e->tag != SOFT_TLB_INVALID && ((e->tag ^ linear) >> e->shift) == 0)
					e->tag = SOFT_TLB_INVALID;
			}
	}
	for (unsigned i = 0; i < SOFT_JC_SIZE; i++) {
		struct soft_jc_entry *j = &cpu->cc.jc[i];

		if (j->key && ((j->lin ^ linear) >> shift) == 0)
			j->key = 0;
	}
}

static inline struct soft_tlb_entry *tlb_hit(struct soft_cpu *cpu, enum soft_access acc, uint64_t linear,
					     uint64_t user)
{
	struct soft_tlb_entry *e = &cpu->tlb[acc][(linear >> 12) & (SOFT_TLB_SIZE - 1)];

	if (SOFT_LIKELY(e->tag == ((linear & SOFT_PAGE_MASK) | user)))
		return e;
	return NULL;
}

bool soft_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* ---- Page walk ---------------------------------------------------------------- */

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PF_P 1u
#define PF_W 2u
#define PF_U 4u
#define PF_RSVD 8u
#define PF_ID 16u

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)

__attribute__((noreturn)) static void page_fault(struct soft_cpu *cpu, uint64_t linear, enum soft_access acc,
						 bool user, unsigned bits)
{
	unsigned err = bits;

	if (acc == SOFT_ACC_WRITE)
		err |= PF_W;
	if (user)
		err |= PF_U;
	if (acc == SOFT_ACC_EXEC && ((cpu->s.efer & EFER_NXE) || (cpu->s.cr4 & CR4_SMEP)))
		err |= PF_ID;
	cpu->s.cr2 = linear;
	soft_raise(cpu, X86_VEC_PF, err);
}

/* A paging-structure entry in guest RAM: NULL when the table is not RAM. */
static void *pte_ptr(struct soft_cpu *cpu, uint64_t gpa, unsigned size)
{
	return guest_mem_ptr(cpu->env.mem, gpa, size);
}

/* Sets accessed/dirty bits of a paging entry; a change marks its page dirty. */
static void set_bits(struct soft_cpu *cpu, void *p, uint64_t gpa, unsigned size, uint64_t bits)
{
	uint64_t old;

	if (size == 8)
		old = __atomic_fetch_or((uint64_t *)p, bits, __ATOMIC_RELAXED);
	else
		old = __atomic_fetch_or((uint32_t *)p, (uint32_t)bits, __ATOMIC_RELAXED);
	if ((old & bits) != bits)
		soft_mark_dirty(cpu, gpa, size);
}

/*
 * Translates and checks one access; fills the TLB when the result may be
 * reused. Returns the guest-physical address.
 */
uint64_t soft_translate(struct soft_cpu *cpu, uint64_t linear, enum soft_access acc, bool user)
{
	const struct x86_cpu_state *s = &cpu->s;
	uint64_t gpa, pagesize = 4096;
	bool global = false, fill = true;

	if (!(s->cr0 & CR0_PG)) {
		gpa = linear & 0xffffffffull;
		global = true;
	} else {
		bool pae = s->cr4 & CR4_PAE, lma = cpu->lma;
		bool nxe = (s->efer & EFER_NXE) && pae;
		unsigned esize = pae ? 8 : 4;
		unsigned levels = lma ? 4 : (pae ? 3 : 2);
		uint64_t table = lma ? (s->cr3 & PTE_ADDR) : (pae ? (s->cr3 & 0xffffffe0ull) : (s->cr3 & 0xfffff000ull));
		bool us = true, rw = true, nx = false;
		void *ent_p[4];
		uint64_t ent_gpa[4];
		unsigned nent = 0;
		uint64_t e = 0;
		int level;

		for (level = (int)levels; level >= 1; level--) {
			unsigned shift, idx_bits;
			uint64_t eaddr;

			if (pae) {
				shift = 12 + 9 * (unsigned)(level - 1);
				idx_bits = (!lma && level == 3) ? 2 : 9;
			} else {
				shift = 12 + 10 * (unsigned)(level - 1);
				idx_bits = 10;
			}
			eaddr = table + (((linear >> shift) & ((1ull << idx_bits) - 1)) * esize);
			void *p = pte_ptr(cpu, eaddr, esize);

			if (!p)
				page_fault(cpu, linear, acc, user, 0);
			if (esize == 8)
				e = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
			else
				e = __atomic_load_n((uint32_t *)p, __ATOMIC_RELAXED);
			if (!(e & PTE_P))
				page_fault(cpu, linear, acc, user, 0);
			if (pae && (e & PTE_NX) && !nxe)
				page_fault(cpu, linear, acc, user, PF_P | PF_RSVD);
			if (!lma && pae && level == 3) {
				/* PAE PDPTE: no access rights, no accessed bit here. */
				table = e & PTE_ADDR;
				continue;
			}
			if (lma && level == 4 && (e & PTE_PS))
				page_fault(cpu, linear, acc, user, PF_P | PF_RSVD);
			us = us && (e & PTE_US);
			rw = rw && (e & PTE_RW);
			if (nxe && (e & PTE_NX))
				nx = true;
			ent_gpa[nent] = eaddr;
			ent_p[nent++] = p;
			if (level > 1 && (e & PTE_PS) && (pae ? level <= 3 : (s->cr4 & CR4_PSE) != 0)) {
				pagesize = 1ull << shift;
				break;
			}
			table = e & (pae ? PTE_ADDR : 0xfffff000ull);
		}
		if (level < 1)
			level = 1;
		if (pagesize > 4096) {
			uint64_t base = pae ? (e & PTE_ADDR & ~(pagesize - 1)) : (e & 0xffc00000ull);

			if (pae && (e & (pagesize - 1) & PTE_ADDR & ~0x1000ull))
				page_fault(cpu, linear, acc, user, PF_P | PF_RSVD);
			gpa = base | (linear & (pagesize - 1));
		} else {
			gpa = (e & (pae ? PTE_ADDR : 0xfffff000ull)) | (linear & 0xfff);
		}
		global = (e & PTE_G) && (s->cr4 & CR4_PGE);

		/* Access rights. */
		if (user) {
			if (!us)
				page_fault(cpu, linear, acc, user, PF_P);
			if (acc == SOFT_ACC_WRITE && !rw)
				page_fault(cpu, linear, acc, user, PF_P);
		} else {
			if (acc == SOFT_ACC_WRITE && !rw && (s->cr0 & CR0_WP))
				page_fault(cpu, linear, acc, user, PF_P);
			if (us && acc == SOFT_ACC_EXEC && (s->cr4 & CR4_SMEP))
				page_fault(cpu, linear, acc, user, PF_P);
			if (us && acc != SOFT_ACC_EXEC && (s->cr4 & CR4_SMAP)) {
				if (!(s->rflags & X86_FLAGS_AC) || cpu->cpl == 3)
					page_fault(cpu, linear, acc, user, PF_P);
				fill = false; /* depends on RFLAGS.AC */
			}
		}
		if (acc == SOFT_ACC_EXEC && nx)
			page_fault(cpu, linear, acc, user, PF_P);
		for (unsigned i = 0; i < nent; i++)
			set_bits(cpu, ent_p[i], ent_gpa[i], esize, PTE_A);
		if (acc == SOFT_ACC_WRITE && nent)
			set_bits(cpu, ent_p[nent - 1], ent_gpa[nent - 1], esize, PTE_D);
	}

	cpu->stats.tlb_misses++;
	uint64_t gpage = gpa & SOFT_PAGE_MASK;
	uint8_t *host = guest_mem_ptr(cpu->env.mem, gpage, 4096);

	/*
	 * Dirty logging: every write translation marks its page, whether it
	 * fills the TLB (later hits write without coming here until
	 * soft_tlb_drop_writes) or not (SMAP-dependent, string and atomic
	 * paths that write through the host pointer themselves).
	 */
	if (acc == SOFT_ACC_WRITE && host)
		soft_mark_dirty(cpu, gpage, 4096);

	if (fill && host) {
		struct soft_tlb_entry *t = &cpu->tlb[acc][(linear >> 12) & (SOFT_TLB_SIZE - 1)];

		t->tag = (linear & SOFT_PAGE_MASK) | (user ? SOFT_TLB_USER : 0);
		t->host = host;
		t->gpa = gpage;
		t->global = global;
		t->codegen = soft_code_word(gpage);
		t->shift = (uint8_t)__builtin_ctzll(pagesize);
		if (t->shift > cpu->tlb_max_shift)
			cpu->tlb_max_shift = t->shift;
	}
	return gpa;
}

/* ---- Physical accesses -------------------------------------------------------- */

void soft_phys_rw(struct soft_cpu *cpu, uint64_t gpa, void *buf, unsigned len, bool is_write)
{
	uint8_t *host = guest_mem_ptr(cpu->env.mem, gpa, len);

	if (host) {
		if (is_write) {
			soft_mark_dirty(cpu, gpa, len);
			cpu_code_write(cpu, soft_code_word(gpa));
			if (((gpa + len - 1) ^ gpa) & SOFT_PAGE_MASK)
				cpu_code_write(cpu, soft_code_word(gpa + len - 1));
			memcpy(host, buf, len);
		} else {
			memcpy(buf, host, len);
		}
		return;
	}
	/* MMIO in naturally sized pieces (1, 2, 4, 8). */
	uint8_t *b = buf;

	while (len) {
		unsigned n = len >= 8 ? 8 : len >= 4 ? 4 : len >= 2 ? 2 : 1;

		/*
		 * Reads start as all ones (an unclaimed read): a callback that
		 * fills less than asked cannot hand the guest what the
		 * handler's buffer held before (host stack bytes).
		 */
		if (!is_write)
			memset(b, 0xff, n);
		if (cpu->env.mmio)
			cpu->env.mmio(cpu->env.opaque, gpa, is_write, b, n);
		gpa += n;
		b += n;
		len -= n;
	}
}

/* ---- Linear accesses ----------------------------------------------------------- */

static uint64_t linear_fix(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	if (!cpu->lma)
		return linear & 0xffffffffull;
	if (!soft_canonical(linear) || !soft_canonical(linear + len - 1))
		soft_raise(cpu, X86_VEC_GP, 0);
	return linear;
}

static void access_slow(struct soft_cpu *cpu, uint64_t linear, void *buf, unsigned len, enum soft_access acc,
			bool user)
{
	uint64_t gpa1, gpa2 = 0;
	unsigned n1;

	linear = linear_fix(cpu, linear, len);
	n1 = 4096 - (unsigned)(linear & 0xfff);
	if (n1 > len)
		n1 = len;
	gpa1 = soft_translate(cpu, linear, acc, user);
	if (n1 < len)
		gpa2 = soft_translate(cpu, cpu->lma ? linear + n1 : (uint32_t)(linear + n1), acc, user);
	soft_phys_rw(cpu, gpa1, buf, n1, acc == SOFT_ACC_WRITE);
	if (n1 < len)
		soft_phys_rw(cpu, gpa2, (uint8_t *)buf + n1, len - n1, acc == SOFT_ACC_WRITE);
}

/* Guest RAM <-> handler buffer; the common sizes without a libc call. */
static inline void copy_small(void *dst, const void *src, unsigned len)
{
	switch (len) {
	case 1:
		*(uint8_t *)dst = *(const uint8_t *)src;
		break;
	case 2:
		__builtin_memcpy(dst, src, 2);
		break;
	case 4:
		__builtin_memcpy(dst, src, 4);
		break;
	case 8:
		__builtin_memcpy(dst, src, 8);
		break;
	default:
		memcpy(dst, src, len);
		break;
	}
}

void soft_read_as(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len, bool user)
{
	uint64_t u = user ? SOFT_TLB_USER : 0;
	struct soft_tlb_entry *e = tlb_hit(cpu, SOFT_ACC_READ, linear, u);

	if (SOFT_LIKELY(e && (linear & 0xfff) + len <= 4096)) {
		copy_small(dst, e->host + (linear & 0xfff), len);
		return;
	}
	access_slow(cpu, linear, dst, len, SOFT_ACC_READ, user);
}

void soft_write_as(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len, bool user)
{
	uint64_t u = user ? SOFT_TLB_USER : 0;
	struct soft_tlb_entry *e = tlb_hit(cpu, SOFT_ACC_WRITE, linear, u);

	if (SOFT_LIKELY(e && (linear & 0xfff) + len <= 4096 &&
			!(e->codegen && (atomic_load_explicit(e->codegen, memory_order_relaxed) & 1)))) {
		copy_small(e->host + (linear & 0xfff), src, len);
		return;
	}
	access_slow(cpu, linear, (void *)(uintptr_t)src, len, SOFT_ACC_WRITE, user);
}

void soft_read(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len)
{
	soft_read_as(cpu, linear, dst, len, cpu->cpl == 3);
}

void soft_write(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len)
{
	soft_write_as(cpu, linear, src, len, cpu->cpl == 3);
}

void soft_read_sys(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len)
{
	access_slow(cpu, linear, dst, len, SOFT_ACC_READ, false);
}

void soft_write_sys(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len)
{
	access_slow(cpu, linear, (void *)(uintptr_t)src, len, SOFT_ACC_WRITE, false);
}

void soft_probe_write(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	bool user = cpu->cpl == 3;
	unsigned n1;

	if (tlb_hit(cpu, SOFT_ACC_WRITE, linear, user ? SOFT_TLB_USER : 0) && (linear & 0xfff) + len <= 4096)
		return;
	linear = linear_fix(cpu, linear, len);
	n1 = 4096 - (unsigned)(linear & 0xfff);
	soft_translate(cpu, linear, SOFT_ACC_WRITE, user);
	if (n1 < len)
		soft_translate(cpu, cpu->lma ? linear + n1 : (uint32_t)(linear + n1), SOFT_ACC_WRITE, user);
}

void *soft_translate_rmw(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	bool user = cpu->cpl == 3;

	if ((linear & (len - 1)) || (linear & 0xfff) + len > 4096) {
		soft_probe_write(cpu, linear, len);
		return NULL;
	}
	struct soft_tlb_entry *e = tlb_hit(cpu, SOFT_ACC_WRITE, linear, user ? SOFT_TLB_USER : 0);
	uint8_t *host;

	if (e) {
		if (e->codegen)
			cpu_code_write(cpu, e->codegen);
		return e->host + (linear & 0xfff);
	}
	linear = linear_fix(cpu, linear, len);
	uint64_t gpa = soft_translate(cpu, linear, SOFT_ACC_WRITE, user);

	host = guest_mem_ptr(cpu->env.mem, gpa, len);
	if (host)
		cpu_code_write(cpu, soft_code_word(gpa));
	return host;
}

/*
 * The process-wide lock of locked MMIO and split accesses. The accesses
 * under it can fault (another vCPU changed the page tables in between,
 * or the MMIO callback did): the fault longjmps out of the handler, past
 * its soft_unlock_slow(), and the run loop lets go of the lock
 * (soft_slow_lock_release) before it delivers the exception. Otherwise the
 * next locked MMIO access of any vCPU would block forever.
 */
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool slow_held; /* this thread holds slow_lock */

void soft_lock_slow(void)
{
	pthread_mutex_lock(&slow_lock);
	slow_held = true;
}

void soft_unlock_slow(void)
{
	slow_held = false;
	pthread_mutex_unlock(&slow_lock);
}

void soft_slow_lock_release(void)
{
	if (SOFT_UNLIKELY(slow_held))
		soft_unlock_slow();
}

uint8_t *soft_fetch_page(struct soft_cpu *cpu, uint64_t linear, uint64_t *gpa)
{
	uint64_t u = cpu->tlb_user;
	struct soft_tlb_entry *e = tlb_hit(cpu, SOFT_ACC_EXEC, linear, u);

	if (SOFT_LIKELY(e)) {
		*gpa = e->gpa | (linear & 0xfff);
		cpu->fetch_codegen = e->codegen;
		cpu->fetch_global = e->global;
		return e->host + (linear & 0xfff);
	}
	cpu->fetch_codegen = NULL;
	cpu->fetch_global = false;
	linear = linear_fix(cpu, linear, 1);
	*gpa = soft_translate(cpu, linear, SOFT_ACC_EXEC, u != 0);
	uint8_t *host = guest_mem_ptr(cpu->env.mem, *gpa & SOFT_PAGE_MASK, 4096);

	return host ? host + (*gpa & 0xfff) : NULL;
}

/* ---- Operands ------------------------------------------------------------------ */

uint64_t soft_ea_offset(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op)
{
	uint64_t a = soft_ea_sum(cpu, op);

	if (in->addrsize == 2)
		a &= 0xffff;
	else if (in->addrsize == 4)
		a &= 0xffffffffull;
	return a;
}

uint64_t soft_ea(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op)
{
	uint64_t a = soft_ea_offset(cpu, in, op);

	if (cpu->code64) {
		if (op->seg == X86_FS || op->seg == X86_GS)
			a += cpu->s.seg[op->seg].base;
		return a;
	}
	return (a + cpu->s.seg[op->seg < X86_NR_SREGS ? op->seg : X86_DS].base) & 0xffffffffull;
}

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

uint64_t soft_op_read(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i)
{
	const struct soft_operand *op = &in->op[i];
	uint64_t v = 0;

	switch (op->kind) {
	case SOFT_OP_GPR:
		if (op->reg & SOFT_REG_HIGH8)
			return (cpu->s.gpr[op->reg & 3] >> 8) & 0xff;
		return cpu->s.gpr[op->reg & 15] & size_mask(op->size);
	case SOFT_OP_MEM:
		soft_read(cpu, soft_ea(cpu, in, op), &v, op->size > 8 ? 8 : op->size);
		return v;
	case SOFT_OP_IMM:
	case SOFT_OP_REL:
	case SOFT_OP_PTR:
		return (uint64_t)op->imm & size_mask(op->size);
	case SOFT_OP_SREG:
		return cpu->s.seg[op->reg % X86_NR_SREGS].selector;
	case SOFT_OP_CR:
		return op->reg == 8 ? cpu->s.cr8 : op->reg == 0 ? cpu->s.cr0 : op->reg == 2 ? cpu->s.cr2
			: op->reg == 3 ? cpu->s.cr3 : cpu->s.cr4;
	case SOFT_OP_DR:
		return cpu->s.dr[op->reg & 7];
	default:
		return 0;
	}
}

void soft_op_write(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, uint64_t v)
{
	const struct soft_operand *op = &in->op[i];

	switch (op->kind) {
	case SOFT_OP_GPR: {
		uint64_t *r;

		if (op->reg & SOFT_REG_HIGH8) {
			r = &cpu->s.gpr[op->reg & 3];
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
			return;
		}
		r = &cpu->s.gpr[op->reg & 15];
		switch (op->size) {
		case 1:
			*r = (*r & ~0xffull) | (v & 0xff);
			break;
		case 2:
			*r = (*r & ~0xffffull) | (v & 0xffff);
			break;
		case 4:
			*r = v & 0xffffffffull;
			break;
		default:
			*r = v;
			break;
		}
		return;
	}
	case SOFT_OP_MEM:
		soft_write(cpu, soft_ea(cpu, in, op), &v, op->size > 8 ? 8 : op->size);
		return;
	default:
		return;
	}
}
