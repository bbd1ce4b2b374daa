// SPDX-License-Identifier: Apache-2.0
/*
 * accel/soft integer handlers and lazy flags, against a small stand-in
 * of the core (flat memory, Zydis decoding into struct soft_insn) and,
 * where the instruction can run here, against this x86-64 host: the same
 * bytes are executed natively in a stub and registers, defined flags and
 * memory are compared.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <Zydis/Zydis.h>

#include "accel/soft/cpu_internal.h"
#include "accel/soft/exec.h"
#include "accel/soft/flags.h"

/* ---- The stand-in core ---------------------------------------------------- */

/* The test double's own state beside the real struct soft_cpu (cpu_internal.h). */
static sigjmp_buf g_jb;
static int g_exc;	  /* vector raised, -1 none */
static bool g_rmw_null;	  /* soft_translate_rmw answers NULL (slow path) */
static unsigned g_slow_locks;

/* Guest memory: linear addresses below LOW_SIZE index `low`; the host buffer `hbuf` is at its own address. */
#define LOW_SIZE 0x20000
static uint8_t low[LOW_SIZE];
#define HBUF_SIZE 4096
static uint8_t *hbuf;
static struct soft_cpu *cpu0;

static uint8_t *mem_at(uint64_t lin, unsigned len)
{
	if (lin < LOW_SIZE && lin + len <= LOW_SIZE)
		return low + lin;
	if (lin >= (uintptr_t)hbuf && lin + len <= (uintptr_t)hbuf + HBUF_SIZE)
		return (uint8_t *)(uintptr_t)lin;
	return NULL;
}

struct x86_cpu_state *soft_regs(struct soft_cpu *cpu)
{
	return &cpu->s;
}

struct soft_lazy_flags *soft_lazy(struct soft_cpu *cpu)
{
	return &cpu->lazy;
}

void soft_raise(struct soft_cpu *cpu, unsigned vector, int64_t error)
{
	(void)error;
	g_exc = (int)vector;
	cpu->s.rip = cpu->insn_rip;
	siglongjmp(g_jb, 1);
}

uint64_t soft_ea(struct soft_cpu *cpu, const struct soft_insn *in, const struct soft_operand *op)
{
	uint64_t ea = (uint64_t)op->imm, m;

	if (op->base == SOFT_REG_RIP)
		ea += cpu->s.rip;
	else if (op->base != SOFT_REG_NONE)
		ea += cpu->s.gpr[op->base];
	if (op->index != SOFT_REG_NONE)
		ea += cpu->s.gpr[op->index] * op->scale;
	m = in->addrsize == 8 ? ~0ull : (1ull << (in->addrsize * 8)) - 1;
	ea &= m;
	if (!cpu->code64 || op->seg >= X86_FS)
		ea += cpu->s.seg[op->seg].base;
	return ea;
}

void soft_read(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len)
{
	uint8_t *p = mem_at(linear, len);

	if (!p)
		soft_raise(cpu, X86_VEC_PF, 0);
	memcpy(dst, p, len);
}

void soft_write(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len)
{
	uint8_t *p = mem_at(linear, len);

	if (!p)
		soft_raise(cpu, X86_VEC_PF, 2);
	memcpy(p, src, len);
}

void soft_read_as(struct soft_cpu *cpu, uint64_t linear, void *dst, unsigned len, bool user)
{
	(void)user;
	soft_read(cpu, linear, dst, len);
}

void soft_write_as(struct soft_cpu *cpu, uint64_t linear, const void *src, unsigned len, bool user)
{
	(void)user;
	soft_write(cpu, linear, src, len);
}

void soft_probe_write(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	if (!mem_at(linear, len))
		soft_raise(cpu, X86_VEC_PF, 2);
}

uint64_t soft_op_read(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i)
{
	(void)in;
	(void)i;
	soft_raise(cpu, X86_VEC_UD, -1);
}

void soft_op_write(struct soft_cpu *cpu, const struct soft_insn *in, unsigned i, uint64_t v)
{
	(void)in;
	(void)i;
	(void)v;
	soft_raise(cpu, X86_VEC_UD, -1);
}

unsigned soft_cpl(const struct soft_cpu *cpu)
{
	(void)cpu;
	return 0;
}

bool soft_long_mode(const struct soft_cpu *cpu)
{
	return cpu->code64;
}

bool soft_code64(const struct soft_cpu *cpu)
{
	return cpu->code64;
}

uint64_t soft_insn_rip(const struct soft_cpu *cpu)
{
	return cpu->insn_rip;
}

void *soft_translate_rmw(struct soft_cpu *cpu, uint64_t linear, unsigned len)
{
	uint8_t *p = mem_at(linear, len);

	if (!p)
		soft_raise(cpu, X86_VEC_PF, 2);
	if (g_rmw_null || (linear & (len - 1)))
		return NULL;
	return p;
}

static int slow_depth;

void soft_lock_slow(void)
{
	slow_depth++;
	g_slow_locks++;
}

void soft_unlock_slow(void)
{
	slow_depth--;
}

void soft_unimplemented(struct soft_cpu *cpu, const struct soft_insn *in)
{
	(void)in;
	soft_raise(cpu, X86_VEC_UD, -1);
}

/* The REP fast path's core services: unused here (env.mem is NULL); test_soft_int_cpu covers it. */
uint64_t soft_translate(struct soft_cpu *cpu, uint64_t linear, enum soft_access acc, bool user)
{
	(void)acc;
	(void)user;
	fail();
	soft_raise(cpu, X86_VEC_PF, (int64_t)linear);
}

void soft_code_invalidate(uint64_t gpa, uint64_t len)
{
	(void)gpa;
	(void)len;
	fail();
}

bool soft_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

const struct soft_handler_table soft_handlers_system = { NULL, 0 };
const struct soft_handler_table soft_handlers_x87 = { NULL, 0 };
const struct soft_handler_table soft_handlers_sse = { NULL, 0 };

/* ---- Decoding (what the core's decoder does, in short) ------------------- */

static unsigned gpr_of(ZydisRegister reg, uint8_t *high8)
{
	ZydisRegister big;

	*high8 = 0;
	switch (reg) {
	case ZYDIS_REGISTER_AH: *high8 = SOFT_REG_HIGH8; return X86_RAX;
	case ZYDIS_REGISTER_CH: *high8 = SOFT_REG_HIGH8; return X86_RCX;
	case ZYDIS_REGISTER_DH: *high8 = SOFT_REG_HIGH8; return X86_RDX;
	case ZYDIS_REGISTER_BH: *high8 = SOFT_REG_HIGH8; return X86_RBX;
	default: break;
	}
	big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
	return (unsigned)(big - ZYDIS_REGISTER_RAX);
}

static unsigned sreg_of(ZydisRegister reg)
{
	switch (reg) {
	case ZYDIS_REGISTER_ES: return X86_ES;
	case ZYDIS_REGISTER_CS: return X86_CS;
	case ZYDIS_REGISTER_SS: return X86_SS;
	case ZYDIS_REGISTER_DS: return X86_DS;
	case ZYDIS_REGISTER_FS: return X86_FS;
	case ZYDIS_REGISTER_GS: return X86_GS;
	default: return X86_DS;
	}
}

static uint8_t mem_reg(ZydisRegister reg)
{
	uint8_t h;

	if (reg == ZYDIS_REGISTER_NONE)
		return SOFT_REG_NONE;
	if (reg == ZYDIS_REGISTER_RIP || reg == ZYDIS_REGISTER_EIP)
		return SOFT_REG_RIP;
	return (uint8_t)gpr_of(reg, &h);
}

static bool decode(int bits, const uint8_t *b, unsigned n, struct soft_insn *in)
{
	ZydisDecoder d;
	ZydisDecodedInstruction z;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	if (bits == 64)
		ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	else if (bits == 32)
		ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	else
		ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LEGACY_16, ZYDIS_STACK_WIDTH_16);
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&d, b, n, &z, ops)))
		return false;
	memset(in, 0, sizeof(*in));
	in->mnemonic = (uint16_t)z.mnemonic;
	in->len = z.length;
	in->opsize = z.operand_width / 8;
	in->addrsize = z.address_width / 8;
	if (z.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		in->flags |= SOFT_INSN_LOCK;
	if (z.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE))
		in->flags |= SOFT_INSN_REP;
	if (z.attributes & ZYDIS_ATTRIB_HAS_REPNE)
		in->flags |= SOFT_INSN_REPNE;
	in->opcode = z.opcode;
	in->opmap = z.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT ? 0 :
		    z.opcode_map == ZYDIS_OPCODE_MAP_0F	     ? 1 :
		    z.opcode_map == ZYDIS_OPCODE_MAP_0F38    ? 2 :
		    z.opcode_map == ZYDIS_OPCODE_MAP_0F3A    ? 3 :
							       4;
	in->modrm_reg = z.raw.modrm.reg;
	for (unsigned i = 0; i < z.operand_count_visible && i < 4; i++) {
		ZydisDecodedOperand *o = &ops[i];
		struct soft_operand *s = &in->op[i];

		s->size = (uint8_t)(o->size / 8);
		s->explicit_op = o->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT;
		switch (o->type) {
		case ZYDIS_OPERAND_TYPE_REGISTER:
			if (ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_SEGMENT) {
				s->kind = SOFT_OP_SREG;
				s->reg = (uint8_t)sreg_of(o->reg.value);
			} else {
				uint8_t h;

				s->kind = SOFT_OP_GPR;
				s->reg = (uint8_t)gpr_of(o->reg.value, &h);
				s->reg |= h;
			}
			break;
		case ZYDIS_OPERAND_TYPE_MEMORY:
			s->kind = SOFT_OP_MEM;
			s->seg = (uint8_t)sreg_of(o->mem.segment);
			s->base = mem_reg(o->mem.base);
			s->index = mem_reg(o->mem.index);
			s->scale = o->mem.scale ? o->mem.scale : 1;
			s->imm = o->mem.disp.value;
			break;
		case ZYDIS_OPERAND_TYPE_IMMEDIATE:
			s->kind = o->imm.is_relative ? SOFT_OP_REL : SOFT_OP_IMM;
			s->imm = o->imm.is_signed ? o->imm.value.s : (int64_t)o->imm.value.u;
			break;
		default:
			s->kind = SOFT_OP_PTR;
			break;
		}
		in->nops = (uint8_t)(i + 1);
	}
	/* string instructions and XLAT: their (hidden) memory operands, as decode.c does */
	if (z.operand_count_visible == 0) {
		for (unsigned i = 0; i < z.operand_count && in->nops < 2; i++) {
			struct soft_operand *s = &in->op[in->nops];

			if (ops[i].type != ZYDIS_OPERAND_TYPE_MEMORY)
				continue;
			s->kind = SOFT_OP_MEM;
			s->size = (uint8_t)(ops[i].size / 8);
			s->seg = (uint8_t)sreg_of(ops[i].mem.segment);
			s->base = mem_reg(ops[i].mem.base);
			s->index = mem_reg(ops[i].mem.index);
			s->scale = 1;
			in->nops++;
		}
	}
	return true;
}

static soft_handler lookup(uint16_t m)
{
	for (unsigned i = 0; i < soft_handlers_int.n; i++)
		if (soft_handlers_int.entries[i].mnemonic == m)
			return soft_handlers_int.entries[i].fn;
	return NULL;
}

#define CODE_RIP 0x1000

/*
 * Runs one instruction on cpu0 (RIP = CODE_RIP unless set); returns the
 * vector raised or -1. `again` re-runs while the instruction restarts
 * itself (REP chunks).
 */
static int run_bits(int bits, const uint8_t *b, unsigned n)
{
	struct soft_insn in;
	soft_handler fn;

	assert_true(decode(bits, b, n, &in));
	fn = lookup(in.mnemonic);
	if (!fn) {
		fprintf(stderr, "no handler for %s\n", ZydisMnemonicGetString(in.mnemonic));
		fail();
	}
	cpu0->code64 = bits == 64;
	g_exc = -1;
	for (unsigned rounds = 0; rounds < 1000; rounds++) {
		cpu0->insn_rip = cpu0->s.rip;
		cpu0->s.rip += in.len;
		if (sigsetjmp(g_jb, 0) == 0)
			fn(cpu0, &in);
		assert_int_equal(slow_depth, 0);
		if (g_exc >= 0 || cpu0->s.rip != cpu0->insn_rip)
			break;
	}
	return g_exc;
}

#define RUN64(...)                                                                        \
	({                                                                                \
		static const uint8_t b_[] = { __VA_ARGS__ };                              \
		run_bits(64, b_, sizeof(b_));                                             \
	})
#define RUN32(...)                                                                        \
	({                                                                                \
		static const uint8_t b_[] = { __VA_ARGS__ };                              \
		run_bits(32, b_, sizeof(b_));                                             \
	})
#define RUN16(...)                                                                        \
	({                                                                                \
		static const uint8_t b_[] = { __VA_ARGS__ };                              \
		run_bits(16, b_, sizeof(b_));                                             \
	})

static uint64_t flags_now(void)
{
	return soft_get_flags(cpu0);
}

static void reset_cpu(void)
{
	memset(&cpu0->s, 0, sizeof(cpu0->s));
	memset(&cpu0->lazy, 0, sizeof(cpu0->lazy));
	cpu0->s.rflags = X86_FLAGS_FIXED;
	cpu0->s.rip = CODE_RIP;
	cpu0->s.seg[X86_SS].db = 1;
	cpu0->s.seg[X86_CS].db = 1;
	g_rmw_null = false;
	g_slow_locks = 0;
	memset(low, 0, sizeof(low));
}

static int setup(void **state)
{
	(void)state;
	reset_cpu();
	return 0;
}

/* ---- The host side: the same bytes executed natively --------------------- */

struct host_ctx {
	uint64_t gpr[16];
	uint64_t flags;
};

extern const char host_stub_start[], host_stub_slot[], host_stub_end[];
__asm__(".text\n"
	".globl host_stub_start\n"
	".globl host_stub_slot\n"
	".globl host_stub_end\n"
	"host_stub_start:\n"
	"push %rbx\npush %rbp\npush %r12\npush %r13\npush %r14\npush %r15\n"
	"push %rdi\n"
	"pushq 128(%rdi)\npopfq\n"
	"mov 0(%rdi),%rax\nmov 8(%rdi),%rcx\nmov 16(%rdi),%rdx\nmov 24(%rdi),%rbx\n"
	"mov 40(%rdi),%rbp\nmov 48(%rdi),%rsi\nmov 64(%rdi),%r8\nmov 72(%rdi),%r9\n"
	"mov 80(%rdi),%r10\nmov 88(%rdi),%r11\nmov 96(%rdi),%r12\nmov 104(%rdi),%r13\n"
	"mov 112(%rdi),%r14\nmov 120(%rdi),%r15\nmov 56(%rdi),%rdi\n"
	"host_stub_slot:\n"
	".fill 16,1,0x90\n"
	"pushfq\n"
	"xchg %rdi,8(%rsp)\n"
	"mov %rax,0(%rdi)\nmov %rcx,8(%rdi)\nmov %rdx,16(%rdi)\nmov %rbx,24(%rdi)\n"
	"mov %rbp,40(%rdi)\nmov %rsi,48(%rdi)\nmov %r8,64(%rdi)\nmov %r9,72(%rdi)\n"
	"mov %r10,80(%rdi)\nmov %r11,88(%rdi)\nmov %r12,96(%rdi)\nmov %r13,104(%rdi)\n"
	"mov %r14,112(%rdi)\nmov %r15,120(%rdi)\n"
	"popq 128(%rdi)\npopq 56(%rdi)\n"
	"cld\n"
	"pop %r15\npop %r14\npop %r13\npop %r12\npop %rbp\npop %rbx\nret\n"
	"host_stub_end:\n");

static uint8_t *host_code;
static sigjmp_buf host_jb;
static volatile int host_sig;

static void host_fault(int sig)
{
	host_sig = sig;
	siglongjmp(host_jb, 1);
}

static int group_setup(void **state)
{
	size_t len = (size_t)(host_stub_end - host_stub_start);

	(void)state;
	host_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (host_code == MAP_FAILED)
		host_code = NULL;
	else
		memcpy(host_code, host_stub_start, len);
	hbuf = aligned_alloc(4096, HBUF_SIZE);
	cpu0 = calloc(1, sizeof(*cpu0));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (host_code)
		munmap(host_code, 4096);
	free(hbuf);
	free(cpu0);
	return 0;
}

/* Runs b on the host with ctx; returns the signal taken (0: none). */
static int host_run(const uint8_t *b, unsigned n, struct host_ctx *ctx)
{
	uint8_t *slot = host_code + (host_stub_slot - host_stub_start);
	void (*fn)(struct host_ctx *);

	memset(slot, 0x90, 16);
	memcpy(slot, b, n);
	__builtin___clear_cache((char *)slot, (char *)slot + 16);
	fn = (void (*)(struct host_ctx *))(void *)host_code;
	host_sig = 0;
	if (sigsetjmp(host_jb, 1) == 0)
		fn(ctx);
	return host_sig;
}

/* ---- Differential tests against the host -------------------------------- */

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const uint64_t interesting[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
	0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
	~0ull, ~1ull, 0x0f0f0f0f0f0f0f0full, 31, 32, 63, 64, 8, 9, 16, 17,
};

static uint64_t pick(void)
{
	uint64_t r = rnd();

	switch (r % 4) {
	case 0: return interesting[(r >> 8) % (sizeof(interesting) / sizeof(interesting[0]))];
	case 1: return (uint64_t)(int64_t)(int8_t)(r >> 16);
	case 2: return rnd() & 0xffff;
	default: return rnd();
	}
}

#define ALLF (X86_FLAGS_CF | X86_FLAGS_PF | X86_FLAGS_AF | X86_FLAGS_ZF | X86_FLAGS_SF | X86_FLAGS_OF)
#define NO_AF (ALLF & ~X86_FLAGS_AF)
#define CF_ONLY X86_FLAGS_CF
#define CF_OF (X86_FLAGS_CF | X86_FLAGS_OF)

struct dcase {
	const char *name;
	uint8_t b[15];
	uint8_t n;
	uint64_t fmask;	 /* flags compared */
	unsigned memreg; /* 1 + register pointed at hbuf (memory forms), 0 none */
	uint64_t regmask; /* registers whose values are random (others 0 or pointer) */
};

#define D(nm, fm, ...) { nm, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), fm, 0, 0 }
#define DM(nm, fm, ...) { nm, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), fm, 1 + X86_RBX, 0 }

static const struct dcase dcases[] = {
	/* ALU, all sizes, with CF in */
	D("add eax,ecx", ALLF, 0x01, 0xc8), D("add rax,rcx", ALLF, 0x48, 0x01, 0xc8),
	D("add al,cl", ALLF, 0x00, 0xc8), D("add ax,cx", ALLF, 0x66, 0x01, 0xc8),
	D("add ah,cl", ALLF, 0x00, 0xcc), D("adc eax,ecx", ALLF, 0x11, 0xc8),
	D("adc rax,rcx", ALLF, 0x48, 0x11, 0xc8), D("adc al,cl", ALLF, 0x10, 0xc8),
	D("adc ax,cx", ALLF, 0x66, 0x11, 0xc8), D("sub eax,ecx", ALLF, 0x29, 0xc8),
	D("sub rax,rcx", ALLF, 0x48, 0x29, 0xc8), D("sub al,cl", ALLF, 0x28, 0xc8),
	D("sub ax,cx", ALLF, 0x66, 0x29, 0xc8), D("sbb eax,ecx", ALLF, 0x19, 0xc8),
	D("sbb rax,rcx", ALLF, 0x48, 0x19, 0xc8), D("sbb al,cl", ALLF, 0x18, 0xc8),
	D("sbb ax,cx", ALLF, 0x66, 0x19, 0xc8), D("cmp eax,ecx", ALLF, 0x39, 0xc8),
	D("cmp rax,rcx", ALLF, 0x48, 0x39, 0xc8), D("cmp al,cl", ALLF, 0x38, 0xc8),
	D("cmp ax,cx", ALLF, 0x66, 0x39, 0xc8), D("and eax,ecx", NO_AF, 0x21, 0xc8),
	D("and rax,rcx", NO_AF, 0x48, 0x21, 0xc8), D("or al,cl", NO_AF, 0x08, 0xc8),
	D("xor ax,cx", NO_AF, 0x66, 0x31, 0xc8), D("xor eax,eax", NO_AF, 0x31, 0xc0),
	D("test rax,rcx", NO_AF, 0x48, 0x85, 0xc8), D("test al,0x81", NO_AF, 0xa8, 0x81),
	D("add eax,-1", ALLF, 0x83, 0xc0, 0xff), D("and rax,imm32", NO_AF, 0x48, 0x25, 0x00, 0x00, 0x00, 0x80),
	D("sub ax,imm16", ALLF, 0x66, 0x2d, 0x01, 0x80), D("cmp rcx,-128", ALLF, 0x48, 0x83, 0xf9, 0x80),
	D("inc eax", ALLF, 0xff, 0xc0), D("inc al", ALLF, 0xfe, 0xc0), D("inc rax", ALLF, 0x48, 0xff, 0xc0),
	D("dec ax", ALLF, 0x66, 0xff, 0xc8), D("dec rax", ALLF, 0x48, 0xff, 0xc8),
	D("dec bh", ALLF, 0xfe, 0xcf),
	D("neg eax", ALLF, 0xf7, 0xd8), D("neg al", ALLF, 0xf6, 0xd8), D("neg rax", ALLF, 0x48, 0xf7, 0xd8),
	D("not eax", ALLF, 0xf7, 0xd0), D("not ax", ALLF, 0x66, 0xf7, 0xd0),
	/* shifts: count 1 (OF defined), by CL and by imm (OF, AF undefined) */
	D("shl eax,1", NO_AF, 0xd1, 0xe0), D("shl al,1", NO_AF, 0xd0, 0xe0),
	D("shl rax,1", NO_AF, 0x48, 0xd1, 0xe0), D("shr eax,1", NO_AF, 0xd1, 0xe8),
	D("shr ax,1", NO_AF, 0x66, 0xd1, 0xe8), D("sar eax,1", NO_AF, 0xd1, 0xf8),
	D("sar al,1", NO_AF, 0xd0, 0xf8), D("sar rax,1", NO_AF, 0x48, 0xd1, 0xf8),
	D("shl eax,cl", NO_AF & ~X86_FLAGS_OF, 0xd3, 0xe0), D("shl al,cl", NO_AF & ~X86_FLAGS_OF, 0xd2, 0xe0),
	D("shl ax,cl", NO_AF & ~X86_FLAGS_OF, 0x66, 0xd3, 0xe0),
	D("shl rax,cl", NO_AF & ~X86_FLAGS_OF, 0x48, 0xd3, 0xe0),
	D("shr eax,cl", NO_AF & ~X86_FLAGS_OF, 0xd3, 0xe8), D("shr al,cl", NO_AF & ~X86_FLAGS_OF, 0xd2, 0xe8),
	D("shr rax,cl", NO_AF & ~X86_FLAGS_OF, 0x48, 0xd3, 0xe8),
	D("sar eax,cl", NO_AF & ~X86_FLAGS_OF, 0xd3, 0xf8), D("sar al,cl", NO_AF & ~X86_FLAGS_OF, 0xd2, 0xf8),
	D("sar ax,cl", NO_AF & ~X86_FLAGS_OF, 0x66, 0xd3, 0xf8),
	D("sar rax,cl", NO_AF & ~X86_FLAGS_OF, 0x48, 0xd3, 0xf8),
	D("shl eax,5", NO_AF & ~X86_FLAGS_OF, 0xc1, 0xe0, 0x05), D("shr rax,63", NO_AF & ~X86_FLAGS_OF, 0x48, 0xc1, 0xe8, 0x3f),
	D("shl eax,0", ALLF, 0xc1, 0xe0, 0x00), D("sar al,8", NO_AF & ~X86_FLAGS_OF, 0xc0, 0xf8, 0x08),
	/* rotates */
	D("rol eax,1", CF_OF, 0xd1, 0xc0), D("ror eax,1", CF_OF, 0xd1, 0xc8),
	D("rol al,1", CF_OF, 0xd0, 0xc0), D("ror ax,1", CF_OF, 0x66, 0xd1, 0xc8),
	D("rol rax,1", CF_OF, 0x48, 0xd1, 0xc0), D("ror rax,1", CF_OF, 0x48, 0xd1, 0xc8),
	D("rcl eax,1", CF_OF, 0xd1, 0xd0), D("rcr eax,1", CF_OF, 0xd1, 0xd8),
	D("rcl al,1", CF_OF, 0xd0, 0xd0), D("rcr al,1", CF_OF, 0xd0, 0xd8),
	D("rcl rax,1", CF_OF, 0x48, 0xd1, 0xd0), D("rcr rax,1", CF_OF, 0x48, 0xd1, 0xd8),
	D("rcl ax,1", CF_OF, 0x66, 0xd1, 0xd0), D("rcr ax,1", CF_OF, 0x66, 0xd1, 0xd8),
	D("rol eax,cl", CF_ONLY, 0xd3, 0xc0), D("ror al,cl", CF_ONLY, 0xd2, 0xc8),
	D("rol ax,cl", CF_ONLY, 0x66, 0xd3, 0xc0), D("ror rax,cl", CF_ONLY, 0x48, 0xd3, 0xc8),
	D("rcl eax,cl", CF_ONLY, 0xd3, 0xd0), D("rcr al,cl", CF_ONLY, 0xd2, 0xd8),
	D("rcl ax,cl", CF_ONLY, 0x66, 0xd3, 0xd0), D("rcr rax,cl", CF_ONLY, 0x48, 0xd3, 0xd8),
	D("rcl al,cl 8b", CF_ONLY, 0xd2, 0xd0), D("rcr ax,cl", CF_ONLY, 0x66, 0xd3, 0xd8),
	/* double shifts (16-bit counts above 16 are undefined: imm forms only) */
	D("shld eax,edx,1", NO_AF, 0x0f, 0xa4, 0xd0, 0x01), D("shrd eax,edx,1", NO_AF, 0x0f, 0xac, 0xd0, 0x01),
	D("shld eax,edx,cl", NO_AF & ~X86_FLAGS_OF, 0x0f, 0xa5, 0xd0),
	D("shrd eax,edx,cl", NO_AF & ~X86_FLAGS_OF, 0x0f, 0xad, 0xd0),
	D("shld rax,rdx,cl", NO_AF & ~X86_FLAGS_OF, 0x48, 0x0f, 0xa5, 0xd0),
	D("shrd rax,rdx,cl", NO_AF & ~X86_FLAGS_OF, 0x48, 0x0f, 0xad, 0xd0),
	D("shld ax,dx,7", NO_AF & ~X86_FLAGS_OF, 0x66, 0x0f, 0xa4, 0xd0, 0x07),
	D("shrd ax,dx,16", NO_AF & ~X86_FLAGS_OF, 0x66, 0x0f, 0xac, 0xd0, 0x10),
	D("shrd rax,rdx,63", NO_AF & ~X86_FLAGS_OF, 0x48, 0x0f, 0xac, 0xd0, 0x3f),
	/* multiply / divide */
	D("mul ecx", CF_OF, 0xf7, 0xe1), D("mul cl", CF_OF, 0xf6, 0xe1), D("mul cx", CF_OF, 0x66, 0xf7, 0xe1),
	D("mul rcx", CF_OF, 0x48, 0xf7, 0xe1), D("imul ecx", CF_OF, 0xf7, 0xe9),
	D("imul cl", CF_OF, 0xf6, 0xe9), D("imul cx", CF_OF, 0x66, 0xf7, 0xe9),
	D("imul rcx", CF_OF, 0x48, 0xf7, 0xe9), D("imul eax,ecx", CF_OF, 0x0f, 0xaf, 0xc1),
	D("imul rax,rcx", CF_OF, 0x48, 0x0f, 0xaf, 0xc1), D("imul ax,cx", CF_OF, 0x66, 0x0f, 0xaf, 0xc1),
	D("imul eax,ecx,-5", CF_OF, 0x6b, 0xc1, 0xfb),
	D("imul rax,rcx,imm32", CF_OF, 0x48, 0x69, 0xc1, 0x00, 0x00, 0x01, 0x80),
	D("div ecx", 0, 0xf7, 0xf1), D("div cl", 0, 0xf6, 0xf1), D("div cx", 0, 0x66, 0xf7, 0xf1),
	D("div rcx", 0, 0x48, 0xf7, 0xf1), D("idiv ecx", 0, 0xf7, 0xf9), D("idiv cl", 0, 0xf6, 0xf9),
	D("idiv cx", 0, 0x66, 0xf7, 0xf9), D("idiv rcx", 0, 0x48, 0xf7, 0xf9),
	/* bits */
	D("bt eax,ecx", CF_ONLY | X86_FLAGS_ZF, 0x0f, 0xa3, 0xc8),
	D("bts rax,rcx", CF_ONLY | X86_FLAGS_ZF, 0x48, 0x0f, 0xab, 0xc8),
	D("btr ax,cx", CF_ONLY | X86_FLAGS_ZF, 0x66, 0x0f, 0xb3, 0xc8),
	D("btc eax,ecx", CF_ONLY | X86_FLAGS_ZF, 0x0f, 0xbb, 0xc8),
	D("bt eax,37", CF_ONLY | X86_FLAGS_ZF, 0x0f, 0xba, 0xe0, 37),
	D("btc rax,63", CF_ONLY | X86_FLAGS_ZF, 0x48, 0x0f, 0xba, 0xf8, 63),
	D("bsf rax,rcx", X86_FLAGS_ZF, 0x48, 0x0f, 0xbc, 0xc1), D("bsr eax,ecx", X86_FLAGS_ZF, 0x0f, 0xbd, 0xc1),
	D("bsf ax,cx", X86_FLAGS_ZF, 0x66, 0x0f, 0xbc, 0xc1), D("bsr rax,rcx", X86_FLAGS_ZF, 0x48, 0x0f, 0xbd, 0xc1),
	D("popcnt rax,rcx", ALLF, 0xf3, 0x48, 0x0f, 0xb8, 0xc1),
	D("bswap eax", ALLF, 0x0f, 0xc8), D("bswap r9", ALLF, 0x49, 0x0f, 0xc9),
	/* moves, conditionals */
	D("mov eax,ecx", ALLF, 0x89, 0xc8), D("mov ah,cl", ALLF, 0x88, 0xcc), D("mov ax,cx", ALLF, 0x66, 0x89, 0xc8),
	D("movzx eax,ch", ALLF, 0x0f, 0xb6, 0xc5), D("movsx rax,cx", ALLF, 0x48, 0x0f, 0xbf, 0xc1),
	D("movsxd rax,ecx", ALLF, 0x48, 0x63, 0xc1), D("movsx ax,cl", ALLF, 0x66, 0x0f, 0xbe, 0xc1),
	D("mov rax,imm64", ALLF, 0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 0x88),
	D("mov rax,-1 imm32", ALLF, 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff),
	D("lea eax,[rcx+rdx*4+8]", ALLF, 0x8d, 0x44, 0x91, 0x08),
	D("lea ax,[rcx+rdx*2-1]", ALLF, 0x66, 0x8d, 0x44, 0x51, 0xff),
	D("lea rax,[ecx+edx]", ALLF, 0x67, 0x48, 0x8d, 0x04, 0x11),
	D("xchg eax,ecx", ALLF, 0x91), D("xchg al,ch", ALLF, 0x86, 0xe8), D("xchg eax,eax 87", ALLF, 0x87, 0xc0),
	D("cmpxchg ecx,edx", ALLF, 0x0f, 0xb1, 0xd1), D("cmpxchg cl,dl", ALLF, 0x0f, 0xb0, 0xd1),
	D("cmpxchg rcx,rdx", ALLF, 0x48, 0x0f, 0xb1, 0xd1),
	D("xadd ecx,edx", ALLF, 0x0f, 0xc1, 0xd1), D("xadd ecx,ecx", ALLF, 0x0f, 0xc1, 0xc9),
	D("xadd al,cl", ALLF, 0x0f, 0xc0, 0xc8),
	D("cmovz eax,ecx", ALLF, 0x0f, 0x44, 0xc1), D("cmovl rax,rcx", ALLF, 0x48, 0x0f, 0x4c, 0xc1),
	D("cmovbe ax,cx", ALLF, 0x66, 0x0f, 0x46, 0xc1), D("cmovp eax,ecx", ALLF, 0x0f, 0x4a, 0xc1),
	D("cmovo eax,ecx", ALLF, 0x0f, 0x40, 0xc1), D("cmovnle eax,ecx", ALLF, 0x0f, 0x4f, 0xc1),
	D("seto al", ALLF, 0x0f, 0x90, 0xc0), D("setb cl", ALLF, 0x0f, 0x92, 0xc1),
	D("setnbe ah", ALLF, 0x0f, 0x97, 0xc4), D("setl dl", ALLF, 0x0f, 0x9c, 0xc2),
	D("setle bl", ALLF, 0x0f, 0x9e, 0xc3), D("setnp al", ALLF, 0x0f, 0x9b, 0xc0),
	D("sets al", ALLF, 0x0f, 0x98, 0xc0), D("setnz al", ALLF, 0x0f, 0x95, 0xc0),
	D("cbw", ALLF, 0x66, 0x98), D("cwde", ALLF, 0x98), D("cdqe", ALLF, 0x48, 0x98),
	D("cwd", ALLF, 0x66, 0x99), D("cdq", ALLF, 0x99), D("cqo", ALLF, 0x48, 0x99),
	D("lahf", ALLF, 0x9f), D("sahf", ALLF, 0x9e), D("clc", ALLF, 0xf8), D("stc", ALLF, 0xf9),
	D("cmc", ALLF, 0xf5), D("nop", ALLF, 0x90), D("nop rm", ALLF, 0x0f, 0x1f, 0x40, 0x00),
	/* memory forms on [rbx] */
	DM("add [rbx],eax", ALLF, 0x01, 0x03), DM("sub rax,[rbx+8]", ALLF, 0x48, 0x2b, 0x43, 0x08),
	DM("adc byte [rbx+3],0x7f", ALLF, 0x80, 0x53, 0x03, 0x7f),
	DM("lock add [rbx],eax", ALLF, 0xf0, 0x01, 0x03), DM("lock sbb [rbx+8],rax", ALLF, 0xf0, 0x48, 0x19, 0x43, 0x08),
	DM("lock inc word [rbx+2]", ALLF, 0xf0, 0x66, 0xff, 0x43, 0x02),
	DM("lock neg qword [rbx]", ALLF, 0xf0, 0x48, 0xf7, 0x1b), DM("lock not [rbx]", ALLF, 0xf0, 0xf7, 0x13),
	DM("shl dword [rbx],cl", NO_AF & ~X86_FLAGS_OF, 0xd3, 0x23),
	DM("rcr word [rbx+1],1", CF_OF, 0x66, 0xd1, 0x5b, 0x01),
	DM("bt [rbx],ecx (sign)", CF_ONLY | X86_FLAGS_ZF, 0x0f, 0xa3, 0x8b, 0x00, 0x08, 0x00, 0x00),
	DM("bts qword [rbx+0x800],rcx", CF_ONLY | X86_FLAGS_ZF, 0x48, 0x0f, 0xab, 0x8b, 0x00, 0x08, 0x00, 0x00),
	DM("lock btr word [rbx+0x800],cx", CF_ONLY | X86_FLAGS_ZF, 0xf0, 0x66, 0x0f, 0xb3, 0x8b, 0x00, 0x08, 0x00, 0x00),
	DM("lock btc [rbx],5", CF_ONLY | X86_FLAGS_ZF, 0xf0, 0x0f, 0xba, 0x3b, 0x05),
	DM("xchg [rbx],rcx", ALLF, 0x48, 0x87, 0x0b), DM("lock cmpxchg [rbx],edx", ALLF, 0xf0, 0x0f, 0xb1, 0x13),
	DM("cmpxchg [rbx+4],dl", ALLF, 0x0f, 0xb0, 0x53, 0x04),
	DM("lock xadd [rbx],rdx", ALLF, 0xf0, 0x48, 0x0f, 0xc1, 0x13),
	DM("lock cmpxchg8b [rbx]", ALLF, 0xf0, 0x0f, 0xc7, 0x0b), DM("cmpxchg8b [rbx+8]", ALLF, 0x0f, 0xc7, 0x4b, 0x08),
	DM("lock cmpxchg16b [rbx+16]", ALLF, 0xf0, 0x48, 0x0f, 0xc7, 0x4b, 0x10),
	DM("mul qword [rbx]", CF_OF, 0x48, 0xf7, 0x23), DM("imul ecx,[rbx],7", CF_OF, 0x6b, 0x0b, 0x07),
	DM("movzx eax,word [rbx]", ALLF, 0x0f, 0xb7, 0x03), DM("movbe eax,[rbx]", ALLF, 0x0f, 0x38, 0xf0, 0x03),
	DM("movbe [rbx],cx", ALLF, 0x66, 0x0f, 0x38, 0xf1, 0x0b),
	DM("setg [rbx]", ALLF, 0x0f, 0x9f, 0x03), DM("cmovs rax,[rbx]", ALLF, 0x48, 0x0f, 0x48, 0x03),
	DM("bsf eax,[rbx]", X86_FLAGS_ZF, 0x0f, 0xbc, 0x03), DM("xlat", ALLF, 0xd7),
	DM("div dword [rbx]", 0, 0xf7, 0x33), DM("idiv qword [rbx]", 0, 0x48, 0xf7, 0x3b),
	DM("shld [rbx],eax,cl", NO_AF & ~X86_FLAGS_OF, 0x0f, 0xa5, 0x03),
};

/* Register values: random, rbx points at hbuf for memory forms; string tests set rsi/rdi themselves. */
static void fill_regs(uint64_t *g, const struct dcase *c)
{
	for (unsigned i = 0; i < 16; i++)
		g[i] = pick();
	g[X86_RSP] = 0;
	if (c->memreg)
		g[c->memreg - 1] = (uintptr_t)hbuf + (rnd() % 2) * 64;
	/* keep BT register offsets on memory within the buffer: rcx small and signed */
	if (c->memreg && (c->b[0] == 0x0f || c->b[1] == 0x0f || c->b[2] == 0x0f))
		g[X86_RCX] = (uint64_t)((int64_t)(rnd() % 0x3000) - 0x1800);
	if (c->b[0] == 0xd7) /* xlat: rbx + al */
		g[X86_RAX] &= ~0x80ull;
}

static void test_diff_host(void **state)
{
	struct host_ctx h;
	static uint8_t mem_before[HBUF_SIZE], mem_host[HBUF_SIZE];
	unsigned failures = 0, runs = 0;
	struct sigaction sa, old_sa;

	(void)state;
	if (!host_code)
		skip();
	/* cmocka has its own SIGFPE handler while a test runs: ours for the host #DE */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = host_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGFPE, &sa, &old_sa);
	for (size_t ci = 0; ci < sizeof(dcases) / sizeof(dcases[0]); ci++) {
		const struct dcase *c = &dcases[ci];

		for (unsigned it = 0; it < 400; it++) {
			uint64_t g[16], f0;
			int hsig, exc;

			fill_regs(g, c);
			/* memory forms point rbx into hbuf, offset 0x800 for the BT forms */
			if (c->memreg && c->n > 3 && c->b[c->n - 4] == 0x00 && c->b[c->n - 3] == 0x08)
				g[X86_RBX] = (uintptr_t)hbuf + 0x100;
			for (unsigned i = 0; i < HBUF_SIZE; i++)
				mem_before[i] = (uint8_t)pick();
			/* cmpxchg: make the compare succeed half of the time */
			if (c->memreg && strstr(c->name, "cmpxchg") && (rnd() & 1)) {
				unsigned d = strstr(c->name, "+16") ? 16 : strstr(c->name, "+8") ? 8 :
					     strstr(c->name, "+4") ? 4 : 0;
				const uint8_t *m = mem_before + (g[X86_RBX] - (uintptr_t)hbuf) + d;

				if (strstr(c->name, "8b")) {
					g[X86_RAX] = g[X86_RDX] = 0;
					memcpy(&g[X86_RAX], m, 4);
					memcpy(&g[X86_RDX], m + 4, 4);
				} else if (strstr(c->name, "16b")) {
					memcpy(&g[X86_RAX], m, 8);
					memcpy(&g[X86_RDX], m + 8, 8);
				} else {
					memcpy(&g[X86_RAX], m, 8);
				}
			}
			f0 = (rnd() & ALLF) | X86_FLAGS_FIXED;
			memcpy(h.gpr, g, sizeof(g));
			h.flags = f0;
			memcpy(hbuf, mem_before, HBUF_SIZE);
			hsig = host_run(c->b, c->n, &h);
			memcpy(mem_host, hbuf, HBUF_SIZE);

			reset_cpu();
			memcpy(cpu0->s.gpr, g, sizeof(g));
			cpu0->s.rflags = f0;
			g_rmw_null = it & 1;
			memcpy(hbuf, mem_before, HBUF_SIZE);
			exc = run_bits(64, c->b, c->n);
			runs++;
			if (hsig) {
				if (exc != X86_VEC_DE) {
					if (failures++ < 20)
						fprintf(stderr, "%s: host SIGFPE, soft exc %d\n", c->name, exc);
				}
				continue;
			}
			if (exc >= 0) {
				if (failures++ < 20)
					fprintf(stderr, "%s: soft exc %d, host none\n", c->name, exc);
				continue;
			}
			{
				uint64_t sf = flags_now();
				bool bad = (sf & c->fmask) != (h.flags & c->fmask);

				for (unsigned i = 0; i < 16; i++)
					if (i != X86_RSP && cpu0->s.gpr[i] != h.gpr[i])
						bad = true;
				if (memcmp(hbuf, mem_host, HBUF_SIZE))
					bad = true;
				if (bad && failures++ < 20) {
					fprintf(stderr, "%s: mismatch (flags in %#lx soft %#lx host %#lx)\n", c->name,
						(unsigned long)f0, (unsigned long)sf, (unsigned long)h.flags);
					for (unsigned i = 0; i < 16; i++)
						if (cpu0->s.gpr[i] != h.gpr[i] && i != X86_RSP)
							fprintf(stderr, "  r%u in %#lx soft %#lx host %#lx\n", i,
								(unsigned long)g[i], (unsigned long)cpu0->s.gpr[i],
								(unsigned long)h.gpr[i]);
					if (memcmp(hbuf, mem_host, HBUF_SIZE))
						fprintf(stderr, "  memory differs\n");
				}
			}
		}
	}
	sigaction(SIGFPE, &old_sa, NULL);
	fprintf(stderr, "differential: %u runs, %u mismatches\n", runs, failures);
	assert_int_equal(failures, 0);
}

/* ---- Conditions after every producer, against the host ------------------- */

static void test_cond_host(void **state)
{
	/* producer, then SETcc for all 16 conditions into r8b..: compare via flags */
	static const struct {
		uint8_t b[4];
		unsigned n;
	} producers[] = {
		{ { 0x48, 0x39, 0xc8 }, 3 }, { { 0x38, 0xc8 }, 2 }, { { 0x66, 0x39, 0xc8 }, 3 },
		{ { 0x39, 0xc8 }, 2 }, { { 0x48, 0x85, 0xc8 }, 3 }, { { 0x84, 0xc8 }, 2 },
		{ { 0x48, 0x19, 0xc8 }, 3 }, { { 0x10, 0xc8 }, 2 }, { { 0xff, 0xc0 }, 2 },
		{ { 0xfe, 0xc8 }, 2 }, { { 0x48, 0xd3, 0xe0 }, 3 }, { { 0xd3, 0xf8 }, 2 },
		{ { 0x48, 0xf7, 0xd8 }, 3 }, { { 0x0f, 0xaf, 0xc1 }, 3 },
	};
	unsigned failures = 0;

	(void)state;
	if (!host_code)
		skip();
	for (size_t p = 0; p < sizeof(producers) / sizeof(producers[0]); p++) {
		unsigned n = producers[p].n;
		const uint8_t *pb = producers[p].b;

		for (unsigned it = 0; it < 300; it++) {
			uint64_t g[16];
			struct host_ctx h;

			for (unsigned i = 0; i < 16; i++)
				g[i] = pick();
			g[X86_RSP] = 0;
			g[X86_RCX] &= (rnd() & 1) ? 0x3f : ~0ull;
			memcpy(h.gpr, g, sizeof(g));
			h.flags = (rnd() & ALLF) | X86_FLAGS_FIXED;
			reset_cpu();
			memcpy(cpu0->s.gpr, g, sizeof(g));
			cpu0->s.rflags = h.flags;
			host_run(pb, n, &h);
			assert_int_equal(run_bits(64, pb, n), -1);
			for (unsigned cc = 0; cc < 16; cc++) {
				bool soft = soft_lf_cond(&cpu0->lazy, cpu0->s.rflags, cc);
				bool host = soft_cc_eval_flags(h.flags, cc);
				unsigned c2 = cc >> 1;
				/* OF after shifts by more than 1; SF/ZF/PF after IMUL */
				bool of_undef = (pb[n - 2] == 0xd3 && c2 != 1 && c2 != 2 && c2 != 4 && c2 != 5) ||
						(pb[1] == 0xaf && c2 != 0 && c2 != 1);

				if (of_undef)
					continue;
				if (soft != host && failures++ < 10)
					fprintf(stderr, "producer %zu cc %u: soft %d host %d\n", p, cc, soft, host);
			}
		}
	}
	assert_int_equal(failures, 0);
}

/* ---- Explicit cases --------------------------------------------------------- */

static void test_div_exceptions(void **state)
{
	(void)state;
	cpu0->s.gpr[X86_RAX] = 5;
	cpu0->s.gpr[X86_RCX] = 0;
	assert_int_equal(RUN64(0xf7, 0xf1), X86_VEC_DE); /* div ecx, 0 */
	assert_int_equal(cpu0->s.rip, CODE_RIP);
	assert_int_equal(cpu0->s.gpr[X86_RAX], 5);
	reset_cpu();
	cpu0->s.gpr[X86_RAX] = 0x80000000;
	cpu0->s.gpr[X86_RDX] = 0xffffffff;
	cpu0->s.gpr[X86_RCX] = 0xffffffff;
	assert_int_equal(RUN64(0xf7, 0xf9), X86_VEC_DE); /* idiv: INT_MIN / -1 */
	reset_cpu();
	cpu0->s.gpr[X86_RAX] = 0;
	cpu0->s.gpr[X86_RDX] = 0x8000000000000000ull;
	cpu0->s.gpr[X86_RCX] = ~0ull;
	assert_int_equal(RUN64(0x48, 0xf7, 0xf9), X86_VEC_DE); /* idiv rcx: INT128_MIN / -1 */
	reset_cpu();
	cpu0->s.gpr[X86_RAX] = 0x1234;
	cpu0->s.gpr[X86_RCX] = 0x12;
	assert_int_equal(RUN64(0xf6, 0xf1), X86_VEC_DE); /* div cl: 0x1234/0x12 > 255 */
	reset_cpu();
	cpu0->s.gpr[X86_RAX] = 0xfff6; /* -10 */
	cpu0->s.gpr[X86_RCX] = 3;
	assert_int_equal(RUN64(0xf6, 0xf9), -1); /* idiv cl */
	assert_int_equal(cpu0->s.gpr[X86_RAX] & 0xffff, 0xfffd); /* AL = -3, AH = -1 */
}

static void test_stack_and_branches(void **state)
{
	(void)state;
	cpu0->s.gpr[X86_RSP] = 0x8000;
	cpu0->s.gpr[X86_RAX] = 0x1122334455667788ull;
	assert_int_equal(RUN64(0x50), -1); /* push rax */
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x7ff8);
	assert_int_equal(*(uint64_t *)&low[0x7ff8], 0x1122334455667788ull);
	assert_int_equal(RUN64(0x66, 0x6a, 0xff), -1); /* push word -1 */
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x7ff6);
	assert_int_equal(*(uint16_t *)&low[0x7ff6], 0xffff);
	assert_int_equal(RUN64(0x66, 0x59), -1); /* pop cx */
	assert_int_equal(cpu0->s.gpr[X86_RCX] & 0xffff, 0xffff);
	assert_int_equal(RUN64(0x5c), -1); /* pop rsp */
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x1122334455667788ull);

	reset_cpu();
	cpu0->s.gpr[X86_RSP] = 0x8000;
	cpu0->s.rip = 0x2000;
	assert_int_equal(RUN64(0xe8, 0x10, 0x00, 0x00, 0x00), -1); /* call +0x10 */
	assert_int_equal(cpu0->s.rip, 0x2015);
	assert_int_equal(*(uint64_t *)&low[0x7ff8], 0x2005);
	assert_int_equal(RUN64(0xc2, 0x08, 0x00), -1); /* ret 8 */
	assert_int_equal(cpu0->s.rip, 0x2005);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x8008);
	cpu0->s.gpr[X86_RAX] = 0x0000800000000000ull;
	assert_int_equal(RUN64(0xff, 0xe0), X86_VEC_GP); /* jmp rax: non-canonical */
	cpu0->s.gpr[X86_RAX] = 0x3000;
	assert_int_equal(RUN64(0xff, 0xe0), -1);
	assert_int_equal(cpu0->s.rip, 0x3000);
	/* loop: rcx 2 -> 1 taken, 1 -> 0 not taken */
	cpu0->s.gpr[X86_RCX] = 2;
	assert_int_equal(RUN64(0xe2, 0x10), -1);
	assert_int_equal(cpu0->s.rip, 0x3012);
	cpu0->s.rip = 0x3000;
	assert_int_equal(RUN64(0xe2, 0x10), -1);
	assert_int_equal(cpu0->s.rip, 0x3002);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 0);
	/* jecxz with rcx = 1 << 32: ecx is zero */
	cpu0->s.gpr[X86_RCX] = 1ull << 32;
	assert_int_equal(RUN64(0x67, 0xe3, 0x10), -1);
	assert_int_equal(cpu0->s.rip, 0x3002 + 3 + 0x10);
	/* pop [rsp+8] uses the incremented rsp */
	reset_cpu();
	cpu0->s.gpr[X86_RSP] = 0x8000;
	*(uint64_t *)&low[0x8000] = 0xabcdef;
	assert_int_equal(RUN64(0x8f, 0x44, 0x24, 0x08), -1);
	assert_int_equal(*(uint64_t *)&low[0x8010], 0xabcdef);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x8008);
	/* enter 16, 0 / leave */
	reset_cpu();
	cpu0->s.gpr[X86_RSP] = 0x8000;
	cpu0->s.gpr[X86_RBP] = 0x9999;
	assert_int_equal(RUN64(0xc8, 0x10, 0x00, 0x00), -1);
	assert_int_equal(cpu0->s.gpr[X86_RBP], 0x7ff8);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x7fe8);
	assert_int_equal(RUN64(0xc9), -1);
	assert_int_equal(cpu0->s.gpr[X86_RBP], 0x9999);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x8000);
	/* enter 8, 2 nests one frame pointer */
	cpu0->s.gpr[X86_RBP] = 0x7000;
	*(uint64_t *)&low[0x7000 - 8] = 0x6000;
	assert_int_equal(RUN64(0xc8, 0x08, 0x00, 0x02), -1);
	assert_int_equal(cpu0->s.gpr[X86_RBP], 0x7ff8);
	assert_int_equal(*(uint64_t *)&low[0x7ff0], 0x6000);
	assert_int_equal(*(uint64_t *)&low[0x7fe8], 0x7ff8);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x7fe0);
}

static void test_32bit_mode(void **state)
{
	(void)state;
	/* pushad / popad with a 32-bit stack */
	cpu0->s.gpr[X86_RSP] = 0x9000;
	for (unsigned i = 0; i < 8; i++)
		if (i != X86_RSP)
			cpu0->s.gpr[i] = 0x100 + i;
	assert_int_equal(RUN32(0x60), -1);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x9000 - 32);
	assert_int_equal(*(uint32_t *)&low[0x9000 - 4], 0x100);			/* eax first */
	assert_int_equal(*(uint32_t *)&low[0x9000 - 20], 0x9000);		/* original esp */
	assert_int_equal(*(uint32_t *)&low[0x9000 - 32], 0x107);		/* edi last */
	for (unsigned i = 0; i < 8; i++)
		if (i != X86_RSP)
			cpu0->s.gpr[i] = 0;
	assert_int_equal(RUN32(0x61), -1);
	for (unsigned i = 0; i < 8; i++)
		if (i != X86_RSP)
			assert_int_equal(cpu0->s.gpr[i], 0x100 + i);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x9000);
	/* 16-bit stack: SP wraps, upper ESP bits stay */
	reset_cpu();
	cpu0->s.seg[X86_SS].db = 0;
	cpu0->s.gpr[X86_RSP] = 0x12340000;
	cpu0->s.seg[X86_SS].base = 0x10000;
	cpu0->s.gpr[X86_RAX] = 0xaabbccdd;
	assert_int_equal(RUN32(0x50), -1); /* push eax */
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x1234fffc);
	assert_int_equal(*(uint32_t *)&low[0x1fffc], 0xaabbccdd);
	/* near call in 16-bit code: IP wraps at 64K */
	reset_cpu();
	cpu0->s.seg[X86_SS].db = 0;
	cpu0->s.gpr[X86_RSP] = 0x100;
	cpu0->s.rip = 0xfff0;
	assert_int_equal(RUN16(0xe8, 0x20, 0x00), -1);
	assert_int_equal(cpu0->s.rip, 0x0013);
	assert_int_equal(*(uint16_t *)&low[0xfe], 0xfff3);
	/* 16-bit addressing: lea ax, [bx+si+0x10] wraps */
	cpu0->s.gpr[X86_RBX] = 0xfff0;
	cpu0->s.gpr[X86_RSI] = 0x0020;
	assert_int_equal(RUN16(0x8d, 0x40, 0x10), -1);
	assert_int_equal(cpu0->s.gpr[X86_RAX] & 0xffff, 0x0020);
	/* 16-bit code: loop counts CX only; ret 4 pops IP and adds to SP */
	reset_cpu();
	cpu0->s.seg[X86_SS].db = 0;
	cpu0->s.gpr[X86_RCX] = 0x50000;	/* CX = 0: wraps to 0xffff, taken */
	cpu0->s.rip = 0x100;
	assert_int_equal(RUN16(0xe2, 0x10), -1);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 0x5ffff);
	assert_int_equal(cpu0->s.rip, 0x112);
	cpu0->s.gpr[X86_RSP] = 0x200;
	*(uint16_t *)&low[0x200] = 0x4321;
	assert_int_equal(RUN16(0xc2, 0x04, 0x00), -1);
	assert_int_equal(cpu0->s.rip, 0x4321);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x206);
	/* 16-bit string addressing: SI/DI wrap at 64 KiB, DS/ES bases apply */
	reset_cpu();
	cpu0->s.seg[X86_DS].base = 0x1000;
	cpu0->s.seg[X86_ES].base = 0x8000;
	cpu0->s.gpr[X86_RSI] = 0xffff;
	cpu0->s.gpr[X86_RDI] = 0xffff;
	cpu0->s.gpr[X86_RCX] = 2;
	low[0x1000 + 0xffff] = 0xaa;
	low[0x1000] = 0xbb;
	assert_int_equal(RUN16(0xf3, 0xa4), -1); /* rep movsb */
	assert_int_equal(low[0x8000 + 0xffff], 0xaa);
	assert_int_equal(low[0x8000], 0xbb);
	assert_int_equal(cpu0->s.gpr[X86_RSI], 1);
	assert_int_equal(cpu0->s.gpr[X86_RDI], 1);
	/* segment override on the source: rep movsb with FS */
	cpu0->s.seg[X86_FS].base = 0x3000;
	low[0x3001] = 0xcc;
	cpu0->s.gpr[X86_RCX] = 1;
	assert_int_equal(RUN16(0x64, 0xa4), -1);
	assert_int_equal(low[0x8001], 0xcc);
	/* 32-bit: enter 8, 1 / leave with a 32-bit stack */
	reset_cpu();
	cpu0->s.gpr[X86_RSP] = 0x9000;
	cpu0->s.gpr[X86_RBP] = 0x1234;
	assert_int_equal(RUN32(0xc8, 0x08, 0x00, 0x01), -1);
	assert_int_equal(cpu0->s.gpr[X86_RBP], 0x8ffc);
	assert_int_equal(*(uint32_t *)&low[0x8ffc], 0x1234);
	assert_int_equal(*(uint32_t *)&low[0x8ff8], 0x8ffc);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x8ff0);
	assert_int_equal(RUN32(0xc9), -1);
	assert_int_equal(cpu0->s.gpr[X86_RBP], 0x1234);
	assert_int_equal(cpu0->s.gpr[X86_RSP], 0x9000);
	/* inc/dec short forms (0x40-0x4f) in 32-bit mode */
	cpu0->s.gpr[X86_RDX] = 0xffffffff;
	assert_int_equal(RUN32(0x42), -1); /* inc edx */
	assert_int_equal(cpu0->s.gpr[X86_RDX], 0);
	assert_true(flags_now() & X86_FLAGS_ZF);
	/* salc */
	soft_set_flags(cpu0, X86_FLAGS_CF);
	assert_int_equal(RUN32(0xd6), -1);
	assert_int_equal(cpu0->s.gpr[X86_RAX] & 0xff, 0xff);
}

/* BCD adjustments (32-bit mode only), SDM examples. */
static void test_bcd(void **state)
{
	(void)state;
	cpu0->s.gpr[X86_RAX] = 0x79;
	cpu0->s.gpr[X86_RBX] = 0x35;
	assert_int_equal(RUN32(0x00, 0xd8), -1); /* add al, bl */
	assert_int_equal(RUN32(0x27), -1);	 /* daa */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x14);
	assert_true(flags_now() & X86_FLAGS_CF);
	cpu0->s.gpr[X86_RAX] = 0x35;
	cpu0->s.gpr[X86_RBX] = 0x47;
	assert_int_equal(RUN32(0x28, 0xd8), -1); /* sub al, bl */
	assert_int_equal(RUN32(0x2f), -1);	 /* das */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x88);
	assert_true(flags_now() & X86_FLAGS_CF);
	cpu0->s.gpr[X86_RAX] = 0x08;
	cpu0->s.gpr[X86_RBX] = 0x05;
	assert_int_equal(RUN32(0x00, 0xd8), -1); /* add al, bl */
	assert_int_equal(RUN32(0x37), -1);	 /* aaa */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x0103);
	assert_true(flags_now() & X86_FLAGS_CF);
	cpu0->s.gpr[X86_RAX] = 0x0203;
	cpu0->s.gpr[X86_RBX] = 0x08;
	assert_int_equal(RUN32(0x28, 0xd8), -1); /* sub al, bl */
	assert_int_equal(RUN32(0x3f), -1);	 /* aas */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x0105);
	assert_true(flags_now() & X86_FLAGS_CF);
	cpu0->s.gpr[X86_RAX] = 0x3f;
	assert_int_equal(RUN32(0xd4, 0x0a), -1); /* aam */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x0603);
	assert_int_equal(RUN32(0xd5, 0x0a), -1); /* aad */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x3f);
	assert_int_equal(RUN32(0xd4, 0x00), X86_VEC_DE);
}

static void test_strings(void **state)
{
	(void)state;
	/* rep movsb forward, 64-bit */
	for (unsigned i = 0; i < 100; i++)
		low[0x100 + i] = (uint8_t)i;
	cpu0->s.gpr[X86_RSI] = 0x100;
	cpu0->s.gpr[X86_RDI] = 0x400;
	cpu0->s.gpr[X86_RCX] = 100;
	assert_int_equal(RUN64(0xf3, 0xa4), -1);
	assert_memory_equal(&low[0x400], &low[0x100], 100);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 0);
	assert_int_equal(cpu0->s.gpr[X86_RSI], 0x164);
	assert_int_equal(cpu0->s.gpr[X86_RDI], 0x464);
	assert_int_equal(cpu0->s.rip, CODE_RIP + 2);
	/* rep stosd backwards (DF=1) */
	reset_cpu();
	cpu0->s.rflags |= X86_FLAGS_DF;
	cpu0->s.gpr[X86_RAX] = 0xdeadbeef;
	cpu0->s.gpr[X86_RDI] = 0x1000 - 4;
	cpu0->s.gpr[X86_RCX] = 4;
	assert_int_equal(RUN64(0xf3, 0xab), -1);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(*(uint32_t *)&low[0x1000 - 16 + 4 * i], 0xdeadbeef);
	assert_int_equal(cpu0->s.gpr[X86_RDI], 0x1000 - 20);
	/* long rep stosb is chunked and restarts (run_bits loops) */
	reset_cpu();
	cpu0->s.gpr[X86_RAX] = 0x5a;
	cpu0->s.gpr[X86_RDI] = 0x2000;
	cpu0->s.gpr[X86_RCX] = 20000;
	assert_int_equal(RUN64(0xf3, 0xaa), -1);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 0);
	assert_int_equal(low[0x2000 + 19999], 0x5a);
	assert_int_equal(low[0x2000 + 20000], 0);
	assert_int_equal(cpu0->s.rip, CODE_RIP + 2);
	/* repe cmpsb stops at the first difference */
	reset_cpu();
	memcpy(&low[0x100], "abcdefgh", 8);
	memcpy(&low[0x200], "abcdXfgh", 8);
	cpu0->s.gpr[X86_RSI] = 0x100;
	cpu0->s.gpr[X86_RDI] = 0x200;
	cpu0->s.gpr[X86_RCX] = 8;
	assert_int_equal(RUN64(0xf3, 0xa6), -1);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 3);
	assert_int_equal(cpu0->s.gpr[X86_RSI], 0x105);
	assert_false(flags_now() & X86_FLAGS_ZF);
	assert_false(flags_now() & X86_FLAGS_CF); /* 'e' (0x65) above 'X' (0x58) */
	/* repne scasb finds the byte */
	reset_cpu();
	memcpy(&low[0x300], "hello\0", 6);
	cpu0->s.gpr[X86_RDI] = 0x300;
	cpu0->s.gpr[X86_RCX] = ~0ull;
	cpu0->s.gpr[X86_RAX] = 0;
	assert_int_equal(RUN64(0xf2, 0xae), -1);
	assert_int_equal(cpu0->s.gpr[X86_RDI], 0x306);
	assert_int_equal(cpu0->s.gpr[X86_RCX], ~0ull - 6);
	assert_true(flags_now() & X86_FLAGS_ZF);
	/* rep with rcx = 0 does nothing; lodsw with 32-bit address size wraps esi */
	reset_cpu();
	cpu0->s.gpr[X86_RCX] = 0;
	cpu0->s.gpr[X86_RDI] = 0x500;
	assert_int_equal(RUN64(0xf3, 0xaa), -1);
	assert_int_equal(cpu0->s.gpr[X86_RDI], 0x500);
	cpu0->s.gpr[X86_RSI] = 0xffffffffull + 0x100000000ull;
	*(uint16_t *)&low[0] = 0x1234;
	cpu0->s.gpr[X86_RSI] = 0x100000000ull; /* esi = 0 */
	assert_int_equal(RUN64(0x67, 0x66, 0xad), -1);
	assert_int_equal(cpu0->s.gpr[X86_RAX] & 0xffff, 0x1234);
	assert_int_equal(cpu0->s.gpr[X86_RSI], 2); /* esi written: upper half cleared */
	/* a fault mid-way leaves the elements done */
	reset_cpu();
	cpu0->s.gpr[X86_RDI] = LOW_SIZE - 3;
	cpu0->s.gpr[X86_RCX] = 10;
	assert_int_equal(RUN64(0xf3, 0xaa), X86_VEC_PF);
	assert_int_equal(cpu0->s.gpr[X86_RCX], 7);
	assert_int_equal(cpu0->s.gpr[X86_RDI], LOW_SIZE);
	assert_int_equal(cpu0->s.rip, CODE_RIP);
}

static void test_flags_misc(void **state)
{
	(void)state;
	/* without ABM/BMI1 (the soft CPUID) F3 0F BC / BD run as BSF / BSR */
	cpu0->s.gpr[X86_RAX] = 0x1234;
	cpu0->s.gpr[X86_RCX] = 0;
	assert_int_equal(RUN64(0xf3, 0x48, 0x0f, 0xbc, 0xc1), -1); /* tzcnt rax, rcx */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 0x1234);
	assert_true(flags_now() & X86_FLAGS_ZF);
	cpu0->s.gpr[X86_RCX] = 0x0100;
	assert_int_equal(RUN64(0xf3, 0x0f, 0xbd, 0xc1), -1); /* lzcnt eax, ecx */
	assert_int_equal(cpu0->s.gpr[X86_RAX], 8);
	assert_false(flags_now() & X86_FLAGS_ZF);
	reset_cpu();
	/* shifts by zero keep flags, even when lazy */
	cpu0->s.gpr[X86_RAX] = 0xffffffff00000001ull;
	cpu0->s.gpr[X86_RCX] = 1;
	assert_int_equal(RUN64(0x39, 0xc8), -1); /* cmp eax, ecx: ZF */
	cpu0->s.gpr[X86_RCX] = 32;		 /* masked to 0 */
	assert_int_equal(RUN64(0xd3, 0xe0), -1); /* shl eax, cl */
	assert_true(flags_now() & X86_FLAGS_ZF);
	assert_int_equal(cpu0->s.gpr[X86_RAX], 1); /* upper half cleared by the 32-bit write */
	/* lock slow path is taken and released */
	reset_cpu();
	g_rmw_null = true;
	cpu0->s.gpr[X86_RBX] = 0x100;
	cpu0->s.gpr[X86_RAX] = 3;
	*(uint32_t *)&low[0x100] = 4;
	assert_int_equal(RUN64(0xf0, 0x01, 0x03), -1);
	assert_int_equal(*(uint32_t *)&low[0x100], 7);
	assert_int_equal(g_slow_locks, 1);
	/* cmpxchg16b needs 16-byte alignment */
	cpu0->s.gpr[X86_RBX] = 0x108;
	assert_int_equal(RUN64(0xf0, 0x48, 0x0f, 0xc7, 0x0b), X86_VEC_GP);
	/* soft_set_flags / soft_get_flags round trip */
	soft_set_flags(cpu0, X86_FLAGS_CF | X86_FLAGS_DF);
	assert_int_equal(flags_now(), X86_FLAGS_CF | X86_FLAGS_DF | X86_FLAGS_FIXED);
	cpu0->s.gpr[X86_RAX] = 0;
	assert_int_equal(RUN64(0x48, 0xff, 0xc8), -1); /* dec rax: CF kept */
	assert_int_equal(flags_now() & ALLF, X86_FLAGS_CF | X86_FLAGS_SF | X86_FLAGS_PF | X86_FLAGS_AF);
	assert_true(flags_now() & X86_FLAGS_DF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_diff_host, setup),
		cmocka_unit_test_setup(test_cond_host, setup),
		cmocka_unit_test_setup(test_div_exceptions, setup),
		cmocka_unit_test_setup(test_stack_and_branches, setup),
		cmocka_unit_test_setup(test_32bit_mode, setup),
		cmocka_unit_test_setup(test_strings, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_flags_misc, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
