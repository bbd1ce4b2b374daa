/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test double of the software CPU's core for the x87/SSE handler tests:
 * a struct soft_cpu over a flat 64 KiB guest memory (linear = offset,
 * anything beyond it is #PF), the exec.h services the handlers use, and
 * a small Zydis -> struct soft_insn conversion so a test runs real
 * instruction bytes through the handler tables (soft_handlers_x87,
 * soft_handlers_sse).
 *
 * Reference instructions are assembled into the test binary as functions
 * (REF_FN): a prologue loading the host registers from the C arguments,
 * the instruction under a label <name>_insn, an epilogue. The guest
 * executes the bytes at <name>_insn, the host calls <name>: both run the
 * very same encoding.
 */
#ifndef OSPREY_TESTS_UNIT_TEST_SOFT_FPU_FIXTURE_H
#define OSPREY_TESTS_UNIT_TEST_SOFT_FPU_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <Zydis/Zydis.h>

#include "accel/soft/exec.h"
#include "accel/soft/fpu.h"

#define GUEST_MEM 65536

struct soft_cpu {
	struct x86_cpu_state regs;
	uint8_t mem[GUEST_MEM];
	jmp_buf jb;
	int vector;
	int64_t error;
	uint64_t insn_rip;
};

struct x86_cpu_state *soft_regs(struct soft_cpu *cpu)
{
	return &cpu->regs;
}

void soft_raise(struct soft_cpu *cpu, unsigned vector, int64_t error)
{
	cpu->vector = (int)vector;
	cpu->error = error;
	longjmp(cpu->jb, 1);
}

uint64_t soft_ea(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op)
{
	uint64_t a = (uint64_t)op->imm;

	if (op->base == SOFT_REG_RIP)
		a += cpu->regs.rip;
	else if (op->base != SOFT_REG_NONE)
		a += cpu->regs.gpr[op->base & 15];
	if (op->index != SOFT_REG_NONE)
		a += cpu->regs.gpr[op->index & 15] * op->scale;
	if (in->addrsize == 4)
		a &= 0xffffffffu;
	return a;
}

static void mem_check(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	if (linear >= GUEST_MEM || len > GUEST_MEM - linear)
		soft_raise(cpu, X86_VEC_PF, 0);
}

void soft_read(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len)
{
	assert_true(len <= 16);
	mem_check(cpu, linear, len);
	memcpy(dst, cpu->mem + linear, len);
}

void soft_write(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len)
{
	assert_true(len <= 16);
	mem_check(cpu, linear, len);
	memcpy(cpu->mem + linear, src, len);
}

void soft_probe_write(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	mem_check(cpu, linear, len);
}

uint64_t soft_op_read(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i)
{
	const struct soft_operand *op = &in->op[i];
	uint64_t v = 0;

	switch (op->kind) {
	case SOFT_OP_GPR:
		if (op->reg & SOFT_REG_HIGH8)
			return (cpu->regs.gpr[op->reg & 3] >> 8) & 0xff;
		v = cpu->regs.gpr[op->reg & 15];
		break;
	case SOFT_OP_MEM:
		soft_read(cpu, soft_ea(cpu, in, op), &v, op->size);
		return v;
	case SOFT_OP_IMM:
		v = (uint64_t)op->imm;
		break;
	default:
		fail_msg("soft_op_read of kind %u", op->kind);
	}
	return op->size == 8 ? v : v & ((1ull << (op->size * 8)) - 1);
}

void soft_op_write(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, uint64_t v)
{
	const struct soft_operand *op = &in->op[i];
	uint64_t *r;

	switch (op->kind) {
	case SOFT_OP_GPR:
		r = &cpu->regs.gpr[op->reg & 15];
		if (op->size == 8)
			*r = v;
		else if (op->size == 4)
			*r = (uint32_t)v;
		else if (op->size == 2)
			*r = (*r & ~0xffffull) | (v & 0xffff);
		else
			*r = (*r & ~0xffull) | (v & 0xff);
		return;
	case SOFT_OP_MEM:
		soft_write(cpu, soft_ea(cpu, in, op), &v, op->size);
		return;
	default:
		fail_msg("soft_op_write of kind %u", op->kind);
	}
}

unsigned soft_cpl(const struct soft_cpu *cpu)
{
	(void)cpu;
	return 3;
}

bool soft_long_mode(const struct soft_cpu *cpu)
{
	(void)cpu;
	return true;
}

bool soft_code64(const struct soft_cpu *cpu)
{
	(void)cpu;
	return true;
}

uint64_t soft_get_flags(struct soft_cpu *cpu)
{
	return cpu->regs.rflags;
}

void soft_set_flags(struct soft_cpu *cpu, uint64_t rflags)
{
	cpu->regs.rflags = rflags;
}

uint64_t soft_insn_rip(const struct soft_cpu *cpu)
{
	return cpu->insn_rip;
}

void soft_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in)
{
	fprintf(stderr, "unimplemented mnemonic %s\n", ZydisMnemonicGetString(in->mnemonic));
	soft_raise(cpu, X86_VEC_UD, -1);
}

/* ---- Decoding ---------------------------------------------------------------- */

static uint8_t gpr_id(ZydisRegister r)
{
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);

	if (big == ZYDIS_REGISTER_RIP)
		return SOFT_REG_RIP;
	return (uint8_t)(big - ZYDIS_REGISTER_RAX);
}

/* Decodes bytes into *out like the core does; false if Zydis refuses. */
static bool fx_decode(const uint8_t *bytes, struct soft_insn *out)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, 15, &zi, zo)))
		return false;
	memset(out, 0, sizeof(*out));
	out->mnemonic = (uint16_t)zi.mnemonic;
	out->len = zi.length;
	out->nops = zi.operand_count_visible > 4 ? 4 : zi.operand_count_visible;
	out->opsize = (uint8_t)(zi.operand_width / 8);
	out->addrsize = (uint8_t)(zi.address_width / 8);
	out->opcode = zi.opcode;
	out->opmap = (uint8_t)zi.opcode_map;
	out->modrm_reg = zi.raw.modrm.reg;
	for (unsigned i = 0; i < out->nops; i++) {
		struct soft_operand *o = &out->op[i];
		const ZydisDecodedOperand *z = &zo[i];

		o->size = (uint8_t)(z->size / 8 > 255 ? 255 : z->size / 8);
		o->explicit_op = 1;
		switch (z->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			switch (ZydisRegisterGetClass(z->reg.value)) {
			case ZYDIS_REGCLASS_XMM:
				o->kind = SOFT_OP_XMM;
				o->reg = (uint8_t)ZydisRegisterGetId(z->reg.value);
				break;
			case ZYDIS_REGCLASS_MMX:
				o->kind = SOFT_OP_MMX;
				o->reg = (uint8_t)ZydisRegisterGetId(z->reg.value);
				break;
			case ZYDIS_REGCLASS_X87:
				o->kind = SOFT_OP_ST;
				o->reg = (uint8_t)ZydisRegisterGetId(z->reg.value);
				break;
			default:
				o->kind = SOFT_OP_GPR;
				o->reg = gpr_id(z->reg.value);
				break;
			}
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			o->kind = SOFT_OP_MEM;
			o->seg = X86_DS;
			o->base = z->mem.base == ZYDIS_REGISTER_NONE ? SOFT_REG_NONE : gpr_id(z->mem.base);
			o->index = z->mem.index == ZYDIS_REGISTER_NONE ? SOFT_REG_NONE : gpr_id(z->mem.index);
			o->scale = z->mem.scale ? z->mem.scale : 1;
			o->imm = z->mem.disp.value;
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			o->kind = SOFT_OP_IMM;
			o->imm = z->imm.is_signed ? z->imm.value.s : (int64_t)z->imm.value.u;
			break;
		default:
			break;
		}
	}
	return true;
}

static soft_handler fx_lookup(uint16_t mnemonic)
{
	const struct soft_handler_table *tabs[] = { &soft_handlers_x87, &soft_handlers_sse };

	for (unsigned t = 0; t < 2; t++)
		for (unsigned i = 0; i < tabs[t]->n; i++)
			if (tabs[t]->entries[i].mnemonic == mnemonic)
				return tabs[t]->entries[i].fn;
	return NULL;
}

/*
 * Executes the instruction at bytes on cpu (RIP = the next instruction
 * while the handler runs). Returns -1, or the vector raised.
 */
static int fx_exec(struct soft_cpu *cpu, const uint8_t *bytes)
{
	static struct soft_insn in;
	soft_handler fn;

	if (!fx_decode(bytes, &in))
		fail_msg("undecodable instruction");
	fn = fx_lookup(in.mnemonic);
	if (!fn)
		fail_msg("no handler for %s", ZydisMnemonicGetString(in.mnemonic));
	cpu->insn_rip = 0x1000;
	cpu->regs.rip = 0x1000 + in.len;
	cpu->vector = -1;
	if (setjmp(cpu->jb) == 0)
		fn(cpu, &in);
	return cpu->vector;
}

/* A CPU in 64-bit mode with SSE enabled and the FPU as after FNINIT. */
static struct soft_cpu *fx_cpu_new(void)
{
	struct soft_cpu *cpu = test_calloc(1, sizeof(*cpu));

	assert_non_null(cpu);
	cpu->regs.cr0 = 0x80000033; /* PG NE ET MP PE */
	cpu->regs.cr4 = (1u << 9) | (1u << 10) | (1u << 5);
	cpu->regs.rflags = 0x2;
	cpu->regs.fpu.fcw = 0x37f;
	cpu->regs.fpu.mxcsr = 0x1f80;
	cpu->regs.fpu.mxcsr_mask = 0xffff;
	/* Also links x87.o (and sse.o) from the archive over any weak placeholder tables. */
	assert_int_equal(soft_fpu_full_tag_word(&cpu->regs.fpu), 0xffff);
	return cpu;
}

/* Defines a host reference function name: prologue, name_insn: insn, epilogue, ret. */
#define REF_FN(name, prologue, insn, epilogue)                                        \
	__asm__(".text\n\t.p2align 4\n\t.globl " #name "\n\t.type " #name ",@function\n" #name \
		":\n\t" prologue "\n\t.globl " #name "_insn\n" #name "_insn:\n\t" insn        \
		"\n\t" epilogue "\n\tret\n\t.size " #name ", .-" #name)

#endif
