// SPDX-License-Identifier: Apache-2.0
/*
 * String instructions of the software CPU: MOVS CMPS SCAS LODS STOS, with
 * REP / REPE / REPNE, DF, and 16/32/64-bit address sizes. A REP
 * instruction does at most INT_REP_CHUNK elements per execution and then
 * re-executes itself (RIP back to its start), so the run loop can take
 * interrupts in between; every element updates rSI/rDI/rCX after its
 * accesses, so a fault leaves the architectural state of the elements
 * done. MOVSD/CMPSD outside the one-byte map are SSE instructions.
 */
#include <string.h>

#include "accel/soft/int_priv.h"
#include "hw/memory.h"

#define INT_REP_CHUNK 4096

/*
 * Host bytes [lin - below, lin - below + len) of guest RAM, all in lin's
 * page, translated for acc at lin, the first element's address (a fault
 * raises as that element's access would, CR2 = lin); NULL for MMIO.
 */
static uint8_t *rep_host(struct soft_cpu *cpu, uint64_t lin, uint64_t below, uint64_t len,
			 enum soft_access acc)
{
	uint64_t gpa;
	uint8_t *p;

	if (cpu->lma && (!soft_canonical(lin - below) || !soft_canonical(lin - below + len - 1)))
		return NULL; /* the element path raises #GP */
	gpa = soft_translate(cpu, lin, acc, cpu->cpl == 3) - below;
	p = cpu->env.mem ? guest_mem_ptr(cpu->env.mem, gpa, len) : NULL;
	if (p && acc == SOFT_ACC_WRITE) {
		/* Dirty logging (soft_translate marked lin's page; the run is inside it). */
		soft_mark_dirty(cpu, gpa, len);
		soft_code_invalidate(gpa, len);
		cpu->stop_block = true;
	}
	return p;
}

/*
 * REP MOVS / REP STOS on RAM: as many elements as stay inside the source
 * and destination pages at once (memmove/memset, or an element loop when
 * overlapping copies must replicate). Returns the elements done, 0 when
 * the element path must do the next one (MMIO, misaligned, page edge).
 */
static uint64_t rep_fast(struct soft_cpu *cpu, struct x86_cpu_state *r, const struct soft_insn *in,
			 bool movs, unsigned sseg, uint64_t max)
{
	unsigned n = in->opsize, as = in->addrsize;
	uint64_t am = sz_mask(as);
	bool back = r->rflags & X86_FLAGS_DF;
	uint64_t di = r->gpr[X86_RDI] & am, si = r->gpr[X86_RSI] & am;
	uint64_t ld = lin_addr(cpu, r, X86_ES, di), ls = movs ? lin_addr(cpu, r, sseg, si) : 0;
	uint64_t cnt = gpr_rd(r, X86_RCX, as), bytes, step;
	uint8_t *hd, *hs = NULL;

	if (cnt > max)
		cnt = max;
	if ((ld & (n - 1)) || (movs && (ls & (n - 1))))
		return 0;
	/* elements inside the page(s), and no offset wraparound */
	if (back) {
		uint64_t room = (ld & 0xfff) / n + 1;

		if (cnt > room)
			cnt = room;
		if (movs && cnt > (ls & 0xfff) / n + 1)
			cnt = (ls & 0xfff) / n + 1;
		if (di < (cnt - 1) * n || (movs && si < (cnt - 1) * n))
			return 0;
	} else {
		uint64_t room = (4096 - (ld & 0xfff)) / n;

		if (cnt > room)
			cnt = room;
		if (movs && cnt > (4096 - (ls & 0xfff)) / n)
			cnt = (4096 - (ls & 0xfff)) / n;
		if (di + cnt * n - 1 > am || (movs && si + cnt * n - 1 > am))
			return 0;
	}
	if (cnt < 2)
		return 0;
	bytes = cnt * n;
	if (movs) {
		hs = rep_host(cpu, ls, back ? bytes - n : 0, bytes, SOFT_ACC_READ);
		if (!hs)
			return 0;
	}
	hd = rep_host(cpu, ld, back ? bytes - n : 0, bytes, SOFT_ACC_WRITE);
	if (!hd)
		return 0;
	if (!movs) {
		uint64_t v = r->gpr[X86_RAX];

		if (n == 1) {
			memset(hd, (int)(v & 0xff), bytes);
		} else {
			for (uint64_t i = 0; i < cnt; i++)
				memcpy(hd + i * n, &v, n);
		}
	} else if ((!back && hd > hs && hd < hs + bytes) || (back && hd < hs && hd + bytes > hs)) {
		/* overlap that the element order makes visible: element by element */
		if (!back) {
			for (uint64_t i = 0; i < cnt; i++)
				memmove(hd + i * n, hs + i * n, n);
		} else {
			for (uint64_t i = cnt; i-- > 0;)
				memmove(hd + i * n, hs + i * n, n);
		}
	} else {
		memmove(hd, hs, bytes);
	}
	step = back ? -bytes : bytes;
	gpr_wr(r, X86_RDI, as, di + step);
	if (movs)
		gpr_wr(r, X86_RSI, as, si + step);
	gpr_wr(r, X86_RCX, as, gpr_rd(r, X86_RCX, as) - cnt);
	return cnt;
}

enum str_kind { ST_MOVS, ST_CMPS, ST_SCAS, ST_LODS, ST_STOS };

INT_INLINE void str_op(struct soft_cpu *cpu, const struct soft_insn *in, unsigned k)
{
	struct x86_cpu_state *r = int_regs(cpu);
	unsigned n = in->opsize, as = in->addrsize;
	uint64_t am = sz_mask(as);
	uint64_t step = (r->rflags & X86_FLAGS_DF) ? -(uint64_t)n : n;
	unsigned sseg = int_implicit_seg(in, X86_RSI);
	bool rep = in->flags & (SOFT_INSN_REP | SOFT_INSN_REPNE);
	bool cmp = k == ST_CMPS || k == ST_SCAS;
	uint64_t a = 0, b = 0;
	unsigned budget = INT_REP_CHUNK;

	if (rep && gpr_rd(r, X86_RCX, as) == 0)
		return;
	if (rep && (k == ST_MOVS || k == ST_STOS) && cpu->env.mem) {
		uint64_t left = (uint64_t)INT_REP_CHUNK * 16;

		while (left) {
			uint64_t done = rep_fast(cpu, r, in, k == ST_MOVS, sseg, left);

			if (!done)
				break;
			if (gpr_rd(r, X86_RCX, as) == 0)
				return;
			left -= done;
		}
		if (!left) {
			r->rip = soft_insn_rip(cpu);
			return;
		}
	}
	for (;;) {
		uint64_t si = r->gpr[X86_RSI] & am, di = r->gpr[X86_RDI] & am;

		switch (k) {
		case ST_MOVS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			mem_wr(cpu, lin_addr(cpu, r, X86_ES, di), n, a);
			gpr_wr(r, X86_RSI, as, si + step);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_CMPS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			b = mem_rd(cpu, lin_addr(cpu, r, X86_ES, di), n);
			gpr_wr(r, X86_RSI, as, si + step);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_SCAS:
			a = gpr_rd(r, X86_RAX, n);
			b = mem_rd(cpu, lin_addr(cpu, r, X86_ES, di), n);
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		case ST_LODS:
			a = mem_rd(cpu, lin_addr(cpu, r, sseg, si), n);
			gpr_wr(r, X86_RAX, n, a);
			gpr_wr(r, X86_RSI, as, si + step);
			break;
		default:
			mem_wr(cpu, lin_addr(cpu, r, X86_ES, di), n, gpr_rd(r, X86_RAX, n));
			gpr_wr(r, X86_RDI, as, di + step);
			break;
		}
		if (cmp)
			soft_lf_set(int_lazy(cpu), SOFT_LF_SUB, n, a, b, (a - b) & sz_mask(n));
		if (!rep)
			return;
		{
			uint64_t c = (gpr_rd(r, X86_RCX, as) - 1) & am;

			gpr_wr(r, X86_RCX, as, c);
			if (c == 0)
				return;
		}
		if (cmp) {
			/* REPE (F3) stops on unequal, REPNE (F2) on equal */
			if ((in->flags & SOFT_INSN_REPNE) ? a == b : a != b)
				return;
		}
		if (--budget == 0) {
			r->rip = soft_insn_rip(cpu);
			return;
		}
	}
}

/*
 * MOVSD / CMPSD outside the one-byte map are SSE2's: the SSE family's
 * handler, looked up once (the decoder gives one handler per mnemonic).
 */
static void sse_twin(struct soft_cpu *cpu, const struct soft_insn *in, soft_handler *cache)
{
	soft_handler h = __atomic_load_n(cache, __ATOMIC_RELAXED);

	if (!h) {
		h = int_lookup(&soft_handlers_sse, in->mnemonic);
		if (!h) {
			soft_unimplemented(cpu, in);
			return;
		}
		__atomic_store_n(cache, h, __ATOMIC_RELAXED);
	}
	h(cpu, in);
}

void soft_int_movs(struct soft_cpu *cpu, const struct soft_insn *in)
{
	static soft_handler sse_movsd;

	if (in->opmap != 0) {
		sse_twin(cpu, in, &sse_movsd);
		return;
	}
	str_op(cpu, in, ST_MOVS);
}

void soft_int_cmps(struct soft_cpu *cpu, const struct soft_insn *in)
{
	static soft_handler sse_cmpsd;

	if (in->opmap != 0) {
		sse_twin(cpu, in, &sse_cmpsd);
		return;
	}
	str_op(cpu, in, ST_CMPS);
}

void soft_int_scas(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_SCAS); }
void soft_int_lods(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_LODS); }
void soft_int_stos(struct soft_cpu *cpu, const struct soft_insn *in) { str_op(cpu, in, ST_STOS); }
