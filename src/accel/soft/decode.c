// SPDX-License-Identifier: Apache-2.0
/*
 * Decoding for the software CPU: Zydis 4 decodes each instruction once
 * into a struct soft_insn; instructions are grouped in blocks (straight
 * runs inside one 4 KiB page, ending at control flow or system
 * instructions) cached per vCPU by guest-physical address and decode
 * mode. A block is valid while its page's code-tracking word (mmu.c) is
 * unchanged; blocks are never freed one by one: when the arena is full the
 * whole cache is dropped (between blocks, so nothing running is freed).
 * An instruction that crosses a page is decoded afresh each time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "accel/soft/cpu_internal.h"
#include "base/log.h"

#define SOFT_CC_ARENA (2u << 20)
#define SOFT_CC_HASH 4096u

static ZydisDecoder decoders[SOFT_NR_MODES];
static soft_handler dispatch[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static uint8_t ends_block[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static _Atomic uint8_t logged[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status;

static void handler_ud(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	soft_raise(cpu, X86_VEC_UD, -1);
}

static void handler_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in)
{
	soft_unimplemented(cpu, in);
}

__attribute__((noreturn)) void soft_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in)
{
	unsigned m = in->mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE ? in->mnemonic : 0;

	if (!atomic_exchange(&logged[m], 1)) {
		uint8_t bytes[16] = { 0 };
		char hex[64] = "";
		uint64_t lin = cpu->s.seg[X86_CS].base + cpu->insn_rip;
		uint64_t gpa;
		uint8_t *p = NULL;

		/* Best effort: the bytes from the instruction's page. */
		if (cpu->s.seg[X86_CS].base + cpu->insn_rip == lin) {
			uint64_t page = cpu->tlb[SOFT_ACC_EXEC][(lin >> 12) & (SOFT_TLB_SIZE - 1)].tag;

			if ((page & SOFT_PAGE_MASK) == (lin & SOFT_PAGE_MASK))
				p = soft_fetch_page(cpu, lin, &gpa);
		}
		for (unsigned i = 0; p && i < in->len && i < 15 && (lin & 0xfff) + i < 4096; i++)
			bytes[i] = p[i];
		for (unsigned i = 0; i < in->len && i < 15; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", bytes[i]);
		log_warnx("soft", "cpu%u: unimplemented instruction %s (%s) at %#llx", cpu->id,
			  ZydisMnemonicGetString((ZydisMnemonic)in->mnemonic), hex,
			  (unsigned long long)cpu->insn_rip);
	}
	soft_raise(cpu, X86_VEC_UD, -1);
}

static void add_table(const struct soft_handler_table *t, bool override, bool ends)
{
	for (unsigned i = 0; i < t->n; i++) {
		unsigned m = t->entries[i].mnemonic;

		if (m > ZYDIS_MNEMONIC_MAX_VALUE || !t->entries[i].fn)
			continue;
		if (dispatch[m] && !override)
			continue;
		dispatch[m] = t->entries[i].fn;
		if (ends)
			ends_block[m] = 1;
	}
}

static void decode_init_once(void)
{
	static const struct {
		ZydisMachineMode mode;
		ZydisStackWidth sw;
	} modes[SOFT_NR_MODES] = {
		[SOFT_MODE_REAL16] = { ZYDIS_MACHINE_MODE_REAL_16, ZYDIS_STACK_WIDTH_16 },
		[SOFT_MODE_PROT16] = { ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16 },
		[SOFT_MODE_PROT32] = { ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32 },
		[SOFT_MODE_LONG64] = { ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64 },
	};

	for (unsigned i = 0; i < SOFT_NR_MODES; i++)
		if (ZYAN_FAILED(ZydisDecoderInit(&decoders[i], modes[i].mode, modes[i].sw))) {
			init_status = -EINVAL;
			return;
		}
	add_table(&soft_handlers_int, false, false);
	add_table(&soft_handlers_x87, false, false);
	add_table(&soft_handlers_sse, false, false);
	/* System handlers win and end their block (mode, flags, I/O changes). */
	add_table(&soft_handlers_system, true, true);
}

int soft_decode_init(void)
{
	pthread_once(&init_once, decode_init_once);
	return init_status;
}

/* ---- Cache ------------------------------------------------------------------ */

static size_t block_alloc_size(unsigned n)
{
	return (sizeof(struct soft_block) + n * sizeof(struct soft_insn) + 15) & ~(size_t)15;
}

int soft_cc_init(struct soft_code_cache *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->arena_size = SOFT_CC_ARENA;
	cc->arena = malloc(cc->arena_size);
	cc->hash_size = SOFT_CC_HASH;
	cc->hash = calloc(cc->hash_size, sizeof(*cc->hash));
	cc->scratch = calloc(1, block_alloc_size(1));
	if (!cc->arena || !cc->hash || !cc->scratch) {
		soft_cc_free(cc);
		return -ENOMEM;
	}
	return 0;
}

void soft_cc_free(struct soft_code_cache *cc)
{
	free(cc->arena);
	free(cc->hash);
	free(cc->scratch);
	memset(cc, 0, sizeof(*cc));
}

void soft_cc_flush(struct soft_code_cache *cc)
{
	memset(cc->jc, 0, sizeof(cc->jc));
	memset(cc->hash, 0, cc->hash_size * sizeof(*cc->hash));
	cc->used = 0;
}

static inline unsigned cc_hash(const struct soft_code_cache *cc, uint64_t gpa, unsigned mode)
{
	uint64_t h = (gpa ^ ((uint64_t)mode << 40)) * 0x9e3779b97f4a7c15ull;

	return (unsigned)(h >> 40) & (cc->hash_size - 1);
}

/* ---- Zydis -> soft_insn ----------------------------------------------------------- */

static uint8_t gpr_index(ZydisRegister r)
{
	ZydisRegisterClass c = ZydisRegisterGetClass(r);
	ZyanI8 id = ZydisRegisterGetId(r);

	if (c == ZYDIS_REGCLASS_IP)
		return SOFT_REG_RIP;
	if (id < 0)
		return SOFT_REG_NONE;
	switch (c) {
	case ZYDIS_REGCLASS_GPR8:
		if (id < 4)
			return (uint8_t)id;
		if (id < 8)
			return (uint8_t)(SOFT_REG_HIGH8 | (id - 4));
		return (uint8_t)(id - 4);
	case ZYDIS_REGCLASS_GPR16:
	case ZYDIS_REGCLASS_GPR32:
	case ZYDIS_REGCLASS_GPR64:
		return (uint8_t)id;
	case ZYDIS_REGCLASS_IP:
		return SOFT_REG_RIP;
	default:
		return SOFT_REG_NONE;
	}
}

static void translate_op(const ZydisDecodedOperand *z, struct soft_operand *o)
{
	unsigned bytes = z->size / 8;

	o->size = bytes > 255 ? 0 : (uint8_t)bytes;
	o->explicit_op = z->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT;
	o->base = o->index = SOFT_REG_NONE;
	switch (z->type) {
	case ZYDIS_OPERAND_TYPE_REGISTER: {
		ZydisRegister r = z->reg.value;
		ZyanI8 id = ZydisRegisterGetId(r);

		switch (ZydisRegisterGetClass(r)) {
		case ZYDIS_REGCLASS_GPR8:
		case ZYDIS_REGCLASS_GPR16:
		case ZYDIS_REGCLASS_GPR32:
		case ZYDIS_REGCLASS_GPR64:
			o->kind = SOFT_OP_GPR;
			o->reg = gpr_index(r);
			break;
		case ZYDIS_REGCLASS_XMM:
			o->kind = SOFT_OP_XMM;
			o->reg = (uint8_t)id;
			break;
		case ZYDIS_REGCLASS_MMX:
			o->kind = SOFT_OP_MMX;
			o->reg = (uint8_t)id;
			break;
		case ZYDIS_REGCLASS_X87:
			o->kind = SOFT_OP_ST;
			o->reg = (uint8_t)id;
			break;
		case ZYDIS_REGCLASS_SEGMENT:
			o->kind = SOFT_OP_SREG;
			o->reg = (uint8_t)id;
			break;
		case ZYDIS_REGCLASS_CONTROL:
			o->kind = SOFT_OP_CR;
			o->reg = (uint8_t)id;
			break;
		case ZYDIS_REGCLASS_DEBUG:
			o->kind = SOFT_OP_DR;
			o->reg = (uint8_t)id;
			break;
		default:
			o->kind = SOFT_OP_NONE;
			o->reg = SOFT_REG_NONE;
			break;
		}
		break;
	}
	case ZYDIS_OPERAND_TYPE_MEMORY:
		o->kind = SOFT_OP_MEM;
		o->seg = z->mem.segment == ZYDIS_REGISTER_NONE ? X86_DS : (uint8_t)ZydisRegisterGetId(z->mem.segment);
		o->base = z->mem.base == ZYDIS_REGISTER_NONE ? SOFT_REG_NONE : gpr_index(z->mem.base);
		o->index = z->mem.index == ZYDIS_REGISTER_NONE ? SOFT_REG_NONE : gpr_index(z->mem.index);
		o->scale = z->mem.scale ? z->mem.scale : 1;
		o->imm = z->mem.disp.has_displacement ? z->mem.disp.value : 0;
		break;
	case ZYDIS_OPERAND_TYPE_POINTER:
		o->kind = SOFT_OP_PTR;
		o->sel = z->ptr.segment;
		o->imm = z->ptr.offset;
		break;
	case ZYDIS_OPERAND_TYPE_IMMEDIATE:
		if (z->imm.is_relative) {
			o->kind = SOFT_OP_REL;
			o->imm = z->imm.value.s;
		} else {
			o->kind = SOFT_OP_IMM;
			o->imm = z->imm.is_signed ? z->imm.value.s : (int64_t)z->imm.value.u;
		}
		break;
	default:
		o->kind = SOFT_OP_NONE;
		break;
	}
}

static bool has_op_kind(const struct soft_insn *in, unsigned kind)
{
	for (unsigned i = 0; i < in->nops; i++)
		if (in->op[i].kind == kind)
			return true;
	return false;
}

static void translate(const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo, struct soft_insn *in)
{
	memset(in, 0, sizeof(*in));
	in->mnemonic = (uint16_t)zi->mnemonic;
	in->len = zi->length;
	in->nops = zi->operand_count_visible > 4 ? 4 : zi->operand_count_visible;
	in->opsize = (uint8_t)(zi->operand_width / 8);
	in->addrsize = (uint8_t)(zi->address_width / 8);
	if (zi->attributes & ZYDIS_ATTRIB_HAS_LOCK)
		in->flags |= SOFT_INSN_LOCK;
	if (zi->attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		in->flags |= SOFT_INSN_REP;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_REPNE)
		in->flags |= SOFT_INSN_REPNE;
	in->opcode = zi->opcode;
	in->opmap = (uint8_t)zi->opcode_map;
	for (unsigned i = 0; i < zi->raw.prefix_count && i < ZYDIS_MAX_INSTRUCTION_LENGTH; i++)
		if (zi->raw.prefixes[i].type == ZYDIS_PREFIX_TYPE_MANDATORY)
			in->mandatory = zi->raw.prefixes[i].value;
	if (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)
		in->modrm_reg = zi->raw.modrm.reg;
	for (unsigned i = 0; i < in->nops; i++)
		translate_op(&zo[i], &in->op[i]);
	if (!in->nops && (zi->meta.category == ZYDIS_CATEGORY_STRINGOP || zi->mnemonic == ZYDIS_MNEMONIC_XLAT ||
			  zi->meta.category == ZYDIS_CATEGORY_IOSTRINGOP)) {
		/* String instructions: their memory operands (exec.h). */
		for (unsigned i = 0; i < zi->operand_count && i < ZYDIS_MAX_OPERAND_COUNT && in->nops < 2; i++)
			if (zo[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
				translate_op(&zo[i], &in->op[in->nops++]);
	}

	/* The handler. */
	unsigned m = zi->mnemonic;
	soft_handler h = m <= ZYDIS_MNEMONIC_MAX_VALUE ? dispatch[m] : NULL;
	bool ends = m <= ZYDIS_MNEMONIC_MAX_VALUE && ends_block[m];

	if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
		if (m == ZYDIS_MNEMONIC_JMP)
			h = soft_far_jmp;
		else if (m == ZYDIS_MNEMONIC_CALL)
			h = soft_far_call;
		else if (m == ZYDIS_MNEMONIC_RET)
			h = soft_far_ret;
		ends = true;
	} else if (m == ZYDIS_MNEMONIC_MOV && has_op_kind(in, SOFT_OP_CR)) {
		h = soft_sys_mov_cr;
		ends = true;
	} else if (m == ZYDIS_MNEMONIC_MOV && has_op_kind(in, SOFT_OP_DR)) {
		h = soft_sys_mov_dr;
		ends = true;
	} else if (m == ZYDIS_MNEMONIC_MOV && has_op_kind(in, SOFT_OP_SREG)) {
		h = soft_sys_mov_sreg;
		ends = true;
	} else if ((m == ZYDIS_MNEMONIC_PUSH || m == ZYDIS_MNEMONIC_POP) && has_op_kind(in, SOFT_OP_SREG)) {
		h = m == ZYDIS_MNEMONIC_PUSH ? soft_sys_push_sreg : soft_sys_pop_sreg;
		ends = true;
	}
	if (!h) {
		h = handler_unimplemented;
		ends = true;
	}
	switch (zi->meta.category) {
	case ZYDIS_CATEGORY_COND_BR:
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_CALL:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSRET:
	case ZYDIS_CATEGORY_SYSTEM:
	case ZYDIS_CATEGORY_IO:
	case ZYDIS_CATEGORY_IOSTRINGOP:
		ends = true;
		break;
	default:
		break;
	}
	if (in->flags & (SOFT_INSN_REP | SOFT_INSN_REPNE))
		ends = true;
	if (ends)
		in->flags |= SOFT_INSN_ENDS_BLOCK;
	in->exec = h;
}

static void make_ud(struct soft_insn *in)
{
	memset(in, 0, sizeof(*in));
	in->exec = handler_ud;
	in->len = 1;
	in->flags = SOFT_INSN_ENDS_BLOCK;
}

/* Decodes the one instruction at lin that crosses into the next page. */
static const struct soft_block *decode_crossing(struct soft_cpu *cpu, uint64_t lin, const uint8_t *host,
						unsigned avail)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	struct soft_block *b = cpu->cc.scratch;
	uint64_t gpa2;
	uint64_t next = cpu->code64 ? lin + avail : (uint32_t)(lin + avail);
	uint8_t *h2 = soft_fetch_page(cpu, next, &gpa2);

	if (avail > sizeof(buf))
		avail = sizeof(buf);
	memcpy(buf, host, avail);
	if (h2)
		memcpy(buf + avail, h2, sizeof(buf) - avail);
	else
		memset(buf + avail, 0xff, sizeof(buf) - avail);
	b->n = 1;
	b->mode = cpu->mode;
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&decoders[cpu->mode], buf, sizeof(buf), &zi, zo)))
		make_ud(&b->insn[0]);
	else
		translate(&zi, zo, &b->insn[0]);
	b->insn[0].flags |= SOFT_INSN_ENDS_BLOCK;
	cpu->stats.blocks_decoded++;
	return b;
}

/* Decodes the block at gpa (host: its bytes) into the cache. */
static __attribute__((noinline)) const struct soft_block *block_decode(struct soft_cpu *cpu, uint64_t lin,
									 uint64_t gpa, uint8_t *host,
									 _Atomic uint32_t *w)
{
	struct soft_code_cache *cc = &cpu->cc;
	uint32_t gen;

	if (cc->used + block_alloc_size(SOFT_BLOCK_MAX) > cc->arena_size)
		soft_cc_flush(cc);
	unsigned h = cc_hash(cc, gpa, cpu->mode);
	struct soft_block *b = (struct soft_block *)(cc->arena + cc->used);
	unsigned avail = 4096 - (unsigned)(gpa & 0xfff), off = 0, n = 0;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];

	gen = soft_code_mark(gpa); /* before reading the bytes */
	while (n < SOFT_BLOCK_MAX && off < avail) {
		ZyanStatus st = ZydisDecoderDecodeFull(&decoders[cpu->mode], host + off, avail - off, &zi, zo);

		if (ZYAN_FAILED(st)) {
			if (st == ZYDIS_STATUS_NO_MORE_DATA) {
				if (n == 0)
					return decode_crossing(cpu, lin, host, avail);
				break;
			}
			make_ud(&b->insn[n++]);
			break;
		}
		translate(&zi, zo, &b->insn[n]);
		off += zi.length;
		if (b->insn[n++].flags & SOFT_INSN_ENDS_BLOCK)
			break;
	}
	b->gpa = gpa;
	b->word = w;
	b->gen = gen;
	b->mode = cpu->mode;
	b->n = (uint8_t)n;
	b->bytes = (uint16_t)off;
	if (w) {
		b->next = cc->hash[h];
		cc->hash[h] = b;
		cc->used += block_alloc_size(n);
	}
	cpu->stats.blocks_decoded++;
	return b;
}

const struct soft_block *soft_block_get(struct soft_cpu *cpu)
{
	struct soft_code_cache *cc = &cpu->cc;
	uint64_t lin = cpu->s.seg[X86_CS].base + cpu->s.rip;
	uint64_t gpa;
	uint8_t *host;

	if (!cpu->code64)
		lin &= 0xffffffffull;
	struct soft_jc_entry *j = soft_jc_slot(cpu, lin);

	if (SOFT_LIKELY(j->lin == lin && (j->key == soft_jc_key(cpu, true) || j->key == soft_jc_key(cpu, false))) &&
	    SOFT_LIKELY(atomic_load_explicit(j->b->word, memory_order_acquire) == j->b->gen))
		return j->b;
	host = soft_fetch_page(cpu, lin, &gpa);
	if (SOFT_UNLIKELY(!host)) {
		/* Code outside RAM: not supported. */
		make_ud(&cc->scratch->insn[0]);
		cc->scratch->n = 1;
		return cc->scratch;
	}
	_Atomic uint32_t *w = cpu->fetch_codegen ? cpu->fetch_codegen : soft_code_word(gpa);
	uint64_t key = soft_jc_key(cpu, cpu->fetch_global);

	if (SOFT_LIKELY(w)) {
		uint32_t gen = atomic_load_explicit(w, memory_order_acquire);
		struct soft_block **pp = &cc->hash[cc_hash(cc, gpa, cpu->mode)], *b;

		while ((b = *pp)) {
			if (b->gpa != gpa || b->mode != cpu->mode) {
				pp = &b->next;
				continue;
			}
			if (b->gen == gen) {
				*j = (struct soft_jc_entry){ lin, key, b };
				return b;
			}
			/*
			 * Stale for good (the page's word only grows): unlinked,
			 * so that code rewriting itself in a loop does not make
			 * every lookup walk all its old versions. The block stays
			 * in the arena until the next flush (a jump-cache entry
			 * may still point at it; its gen check fails).
			 */
			*pp = b->next;
		}
	}
	const struct soft_block *b = block_decode(cpu, lin, gpa, host, w);

	if (b != cc->scratch && w) {
		j = soft_jc_slot(cpu, lin); /* the decode may have flushed */
		*j = (struct soft_jc_entry){ lin, key, b };
	}
	return b;
}
