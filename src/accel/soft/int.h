/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The integer-instruction handlers of the software CPU (int_*.c): one list
 * of (Zydis mnemonic, handler) from which int_table.c builds
 * soft_handlers_int and this header declares the handlers.
 *
 * The decoder (decode.c) routes the system forms of shared mnemonics
 * (far JMP/CALL/RET, MOV with CRn/DRn/segment registers, PUSH/POP of
 * segment registers) to the system family; should one reach these
 * handlers anyway, they hand it to soft_handlers_system's handler. MOVSD
 * and CMPSD with opmap != 0 are SSE2's and go to soft_handlers_sse.
 *
 * The handlers read struct soft_cpu directly (cpu_internal.h: registers,
 * lazy flags, mode, soft_translate for the REP fast path) for speed; see
 * int_priv.h.
 */
#ifndef OSPREY_ACCEL_SOFT_INT_H
#define OSPREY_ACCEL_SOFT_INT_H

#include "accel/soft/exec.h"

#define SOFT_INT_CC_LIST(X, PFX)                                                            \
	X(PFX##O, O) X(PFX##NO, NO) X(PFX##B, B) X(PFX##NB, NB) X(PFX##Z, Z) X(PFX##NZ, NZ)           \
	X(PFX##BE, BE) X(PFX##NBE, NBE) X(PFX##S, S) X(PFX##NS, NS) X(PFX##P, P) X(PFX##NP, NP)       \
	X(PFX##L, L) X(PFX##NL, NL) X(PFX##LE, LE) X(PFX##NLE, NLE)

#define SOFT_INT_LIST(X)                                                                  \
	X(ADD, add) X(OR, or) X(ADC, adc) X(SBB, sbb) X(AND, and) X(SUB, sub)             \
	X(XOR, xor) X(CMP, cmp) X(TEST, test) X(INC, inc) X(DEC, dec) X(NEG, neg)         \
	X(NOT, not)                                                                       \
	X(SHL, shl) X(SHR, shr) X(SAR, sar) X(ROL, rol) X(ROR, ror)           \
	X(RCL, rcl) X(RCR, rcr) X(SHLD, shld) X(SHRD, shrd)                               \
	X(MUL, mul) X(IMUL, imul) X(DIV, div) X(IDIV, idiv)                               \
	X(BT, bt) X(BTS, bts) X(BTR, btr) X(BTC, btc) X(BSF, bsf) X(BSR, bsr)             \
	X(POPCNT, popcnt) X(LZCNT, lzcnt) X(TZCNT, tzcnt) X(BSWAP, bswap)                 \
	X(MOV, mov) X(MOVZX, movzx) X(MOVSX, movsx) X(MOVSXD, movsxd) X(LEA, lea)         \
	X(XCHG, xchg) X(CMPXCHG, cmpxchg) X(CMPXCHG8B, cmpxchg8b)                         \
	X(CMPXCHG16B, cmpxchg16b) X(XADD, xadd) X(MOVBE, movbe)                           \
	X(CBW, cbw) X(CWDE, cwde) X(CDQE, cdqe) X(CWD, cwd) X(CDQ, cdq) X(CQO, cqo)       \
	X(LAHF, lahf) X(SAHF, sahf) X(CLC, clc) X(STC, stc) X(CMC, cmc) X(CLD, cld)       \
	X(STD, std) X(NOP, nop) X(PAUSE, nop) X(ENDBR32, nop) X(ENDBR64, nop)             \
	X(PREFETCH, nop) X(PREFETCHNTA, nop) X(PREFETCHT0, nop) X(PREFETCHT1, nop)        \
	X(PREFETCHT2, nop) X(PREFETCHW, nop) X(LFENCE, fence) X(MFENCE, fence)            \
	X(SFENCE, fence) X(XLAT, xlat) X(DAA, daa) X(DAS, das) X(AAA, aaa) X(AAS, aas)     \
	X(AAM, aam) X(AAD, aad) X(SALC, salc)                                                     \
	X(JMP, jmp) X(CALL, call) X(RET, ret) X(LOOP, loop) X(LOOPE, loope)               \
	X(LOOPNE, loopne) X(JCXZ, jcxz) X(JECXZ, jcxz) X(JRCXZ, jcxz)                     \
	X(PUSH, push) X(POP, pop) X(PUSHA, pusha) X(PUSHAD, pusha) X(POPA, popa)          \
	X(POPAD, popa) X(ENTER, enter) X(LEAVE, leave)                                    \
	X(MOVSB, movs) X(MOVSW, movs) X(MOVSD, movs) X(MOVSQ, movs)                       \
	X(CMPSB, cmps) X(CMPSW, cmps) X(CMPSD, cmps) X(CMPSQ, cmps)                       \
	X(SCASB, scas) X(SCASW, scas) X(SCASD, scas) X(SCASQ, scas)                       \
	X(LODSB, lods) X(LODSW, lods) X(LODSD, lods) X(LODSQ, lods)                       \
	X(STOSB, stos) X(STOSW, stos) X(STOSD, stos) X(STOSQ, stos)

/* Each handler once (several mnemonics may share one). */
#define SOFT_INT_FNS(F) \
	F(add) F(or) F(adc) F(sbb) F(and) F(sub) F(xor) F(cmp) F(test) F(inc) F(dec) F(neg) \
	F(not) F(shl) F(shr) F(sar) F(rol) F(ror) F(rcl) F(rcr) F(shld) F(shrd) F(mul) \
	F(imul) F(div) F(idiv) F(bt) F(bts) F(btr) F(btc) F(bsf) F(bsr) F(popcnt) F(lzcnt) \
	F(tzcnt) F(bswap) F(mov) F(movzx) F(movsx) F(movsxd) F(lea) F(xchg) F(cmpxchg) \
	F(cmpxchg8b) F(cmpxchg16b) F(xadd) F(movbe) F(cbw) F(cwde) F(cdqe) F(cwd) F(cdq) \
	F(cqo) F(lahf) F(sahf) F(clc) F(stc) F(cmc) F(cld) F(std) F(nop) F(fence) F(xlat) \
	F(daa) F(das) F(aaa) F(aas) F(aam) F(aad) F(salc) \
	F(jmp) F(call) F(ret) F(loop) F(loope) F(loopne) F(jcxz) F(push) F(pop) F(pusha) \
	F(popa) F(enter) F(leave) F(movs) F(cmps) F(scas) F(lods) F(stos)

#define SOFT_INT_DECL(fn) void soft_int_##fn(struct soft_cpu *cpu, const struct soft_insn *in);
#define SOFT_INT_DECL_CC(m, cc) SOFT_INT_DECL(m)
SOFT_INT_FNS(SOFT_INT_DECL)
SOFT_INT_CC_LIST(SOFT_INT_DECL_CC, J)
SOFT_INT_CC_LIST(SOFT_INT_DECL_CC, SET)
SOFT_INT_CC_LIST(SOFT_INT_DECL_CC, CMOV)
#undef SOFT_INT_DECL_CC
#undef SOFT_INT_DECL

#endif
