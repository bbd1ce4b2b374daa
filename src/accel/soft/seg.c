// SPDX-License-Identifier: Apache-2.0
/*
 * Segmentation of the software CPU: descriptor reads from the GDT/LDT,
 * segment register loads with the protected-mode checks (#GP/#NP/#SS
 * with the selector as error code), real-mode loads, flat segments.
 * Limit checks on data accesses are not done (flat guests); the hidden
 * parts are kept exactly for state save/restore.
 */
#include <string.h>

#include "accel/soft/cpu_internal.h"

void soft_seg_flat(struct x86_segment *seg, uint16_t sel, bool code, unsigned dpl, bool l64)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = 0;
	seg->limit = 0xffffffffu;
	seg->type = code ? 0xb : 0x3;
	seg->s = 1;
	seg->dpl = (uint8_t)dpl;
	seg->present = 1;
	seg->l = l64 && code;
	seg->db = !(l64 && code);
	seg->g = 1;
}

void soft_seg_real(struct x86_segment *seg, uint16_t sel)
{
	seg->selector = sel;
	seg->base = (uint64_t)sel << 4;
	seg->present = 1;
	seg->unusable = 0;
	seg->s = 1;
	seg->dpl = 0;
}

bool soft_desc_read(struct soft_cpu *cpu, uint16_t sel, uint64_t desc[2], bool sys16)
{
	uint64_t base;
	uint32_t limit;
	unsigned idx = sel & ~7u;

	if (sel & 4) {
		const struct x86_segment *ldt = &cpu->s.seg[X86_LDTR];

		if (ldt->unusable || !ldt->present)
			return false;
		base = ldt->base;
		limit = ldt->limit;
	} else {
		base = cpu->s.gdt.base;
		limit = cpu->s.gdt.limit;
	}
	if ((uint64_t)idx + (sys16 ? 15 : 7) > limit)
		return false;
	desc[1] = 0;
	soft_read_sys(cpu, base + idx, desc, sys16 ? 16 : 8);
	return true;
}

void soft_desc_to_seg(const uint64_t d, struct x86_segment *seg, uint16_t sel)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	memset(seg, 0, sizeof(*seg));
	seg->selector = sel;
	seg->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	seg->type = (d >> 40) & 0xf;
	seg->s = (d >> 44) & 1;
	seg->dpl = (d >> 45) & 3;
	seg->present = (d >> 47) & 1;
	seg->avl = (d >> 52) & 1;
	seg->l = (d >> 53) & 1;
	seg->db = (d >> 54) & 1;
	seg->g = (d >> 55) & 1;
	seg->limit = seg->g ? (limit << 12) | 0xfff : limit;
}

static bool prot_mode(const struct soft_cpu *cpu)
{
	return (cpu->s.cr0 & 1) && !(cpu->s.rflags & X86_FLAGS_VM);
}

bool soft_seg_check(struct soft_cpu *cpu, unsigned sreg, uint16_t sel, unsigned cpl, struct x86_segment *out)
{
	struct x86_segment tmp;
	uint64_t d[2];
	unsigned rpl = sel & 3;

	if (!prot_mode(cpu)) {
		*out = cpu->s.seg[sreg];
		soft_seg_real(out, sel);
		return true;
	}
	if ((sel & ~3u) == 0) {
		bool long64 = cpu->lma && (sreg != X86_SS || cpu->code64 || cpl < 3);

		if (sreg == X86_SS && !(long64 && cpl < 3 && rpl == cpl))
			soft_raise(cpu, X86_VEC_GP, 0);
		memset(&tmp, 0, sizeof(tmp));
		tmp.selector = sel;
		tmp.unusable = 1;
		if (sreg == X86_SS) {
			tmp.dpl = (uint8_t)cpl;
			tmp.db = 1;
		}
		*out = tmp;
		return true;
	}
	if (!soft_desc_read(cpu, sel, d, false))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_desc_to_seg(d[0], &tmp, sel);
	if (!tmp.s)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	bool code = tmp.type & 8;
	if (sreg == X86_SS) {
		if (rpl != cpl || tmp.dpl != cpl || code || !(tmp.type & 2))
			soft_raise(cpu, X86_VEC_GP, sel & ~3u);
		if (!tmp.present)
			soft_raise(cpu, X86_VEC_SS, sel & ~3u);
	} else {
		if (code && !(tmp.type & 2)) /* execute-only code */
			soft_raise(cpu, X86_VEC_GP, sel & ~3u);
		if ((!code || !(tmp.type & 4)) && (rpl > tmp.dpl || cpl > tmp.dpl))
			soft_raise(cpu, X86_VEC_GP, sel & ~3u);
		if (!tmp.present)
			soft_raise(cpu, X86_VEC_NP, sel & ~3u);
	}
	tmp.type |= 1; /* accessed (not written back: guests preset it) */
	*out = tmp;
	return true;
}

void soft_load_seg(struct soft_cpu *cpu, unsigned sreg, uint16_t sel)
{
	struct x86_segment seg;

	soft_seg_check(cpu, sreg, sel, cpu->cpl, &seg);
	cpu->s.seg[sreg] = seg;
	if (sreg == X86_CS)
		soft_mode_update(cpu);
}

void soft_load_cs_checked(struct soft_cpu *cpu, uint16_t sel, unsigned target_cpl, struct x86_segment *out)
{
	uint64_t d[2];

	if ((sel & ~3u) == 0)
		soft_raise(cpu, X86_VEC_GP, 0);
	if (!soft_desc_read(cpu, sel, d, false))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	soft_desc_to_seg(d[0], out, sel);
	if (!out->s || !(out->type & 8))
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	if (out->type & 4) {
		if (out->dpl > target_cpl)
			soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	} else if (out->dpl != target_cpl) {
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	}
	if (!out->present)
		soft_raise(cpu, X86_VEC_NP, sel & ~3u);
	if (cpu->lma && out->l && out->db)
		soft_raise(cpu, X86_VEC_GP, sel & ~3u);
	out->type |= 1;
	out->selector = (uint16_t)((sel & ~3u) | target_cpl);
	out->dpl = (uint8_t)target_cpl; /* CPL lives in CS.DPL (conforming too) */
}
