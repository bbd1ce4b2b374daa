/* SPDX-License-Identifier: MIT */
/*
 * cpuloops.S - CPU-bound loops with a known instruction count per
 * iteration, for bench/cpu.py. The same object runs in the cpubench test
 * guest (user mode, on osprey's software CPU, on QEMU TCG or on KVM) and
 * natively on the host (bench/cpu_native.c), so guest MIPS can be compared
 * with the host's. System V calling convention, no memory outside the
 * buffer given, position independent.
 *
 *   uint64_t cpuloop_int(uint64_t iters, uint64_t seed)       12 insns/iter
 *   uint64_t cpuloop_branch(uint64_t iters, uint64_t seed)    12 insns/iter
 *   uint64_t cpuloop_mem(uint64_t iters, uint32_t *buf4k)      8 insns/iter
 *
 * Keep the counts in sync with cpuloops.h.
 */
	.text
	.code64

/* xorshift64 and an accumulator: ALU-bound, no memory, one branch. */
	.globl cpuloop_int
	.type cpuloop_int, @function
cpuloop_int:
	mov	%rdi, %rdx
	xor	%ecx, %ecx
	test	%rdx, %rdx
	jz	2f
1:	mov	%rsi, %rax
	shl	$13, %rax
	xor	%rax, %rsi
	mov	%rsi, %rax
	shr	$7, %rax
	xor	%rax, %rsi
	mov	%rsi, %rax
	shl	$17, %rax
	xor	%rax, %rsi
	add	%rsi, %rcx
	dec	%rdx
	jnz	1b
2:	mov	%rcx, %rax
	ret
	.size cpuloop_int, . - cpuloop_int

/* A data-dependent (unpredictable) branch each iteration. */
	.globl cpuloop_branch
	.type cpuloop_branch, @function
cpuloop_branch:
	mov	%rdi, %rdx
	xor	%ecx, %ecx
	test	%rdx, %rdx
	jz	4f
1:	mov	%rsi, %rax
	shl	$13, %rax
	xor	%rax, %rsi
	mov	%rsi, %rax
	shr	$7, %rax
	xor	%rax, %rsi
	test	$1, %sil
	jz	2f
	add	%rsi, %rcx
	jmp	3f
2:	sub	%rsi, %rcx
	nop
3:	dec	%rdx
	jnz	1b
4:	mov	%rcx, %rax
	ret
	.size cpuloop_branch, . - cpuloop_branch

/* Loads and read-modify-write stores into a 4 KiB table (a histogram). */
	.globl cpuloop_mem
	.type cpuloop_mem, @function
cpuloop_mem:
	mov	%rdi, %rdx
	mov	$0x9e3779b97f4a7c15, %r8
	mov	%r8, %r9
	test	%rdx, %rdx
	jz	2f
1:	imul	%r8, %r9
	mov	%r9, %rax
	shr	$54, %rax
	addl	$1, (%rsi,%rax,4)
	movl	(%rsi,%rax,4), %ecx
	add	%rcx, %r9
	dec	%rdx
	jnz	1b
2:	mov	%r9, %rax
	ret
	.size cpuloop_mem, . - cpuloop_mem

	.section .note.GNU-stack, "", @progbits
