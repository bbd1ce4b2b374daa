/* SPDX-License-Identifier: MIT */
/*
 * start64.S - PVH entry for osprey's 64-bit test guests (guest64.ld).
 *
 * Entered like the 32-bit guests: protected mode, paging off, interrupts
 * off, EBX = guest-physical address of struct osprey_hvm_start_info.
 * Switches to long mode with the first 4 GiB identity-mapped by 2 MiB
 * pages that user mode may use (U/S=1 at every level; the top GiB, the
 * MMIO hole, uncached), loads a GDT with kernel and user segments and a
 * TSS, zeroes .bss and calls test_main(start_info) in 64-bit kernel mode.
 * gt64_cpu_init() (gt64.c) installs the IDT and the TSS.
 *
 * Everything here runs in KVM's instruction emulator on kvm_pvm hosts, so
 * the page tables and GDT are assembled, not computed.
 *
 * Also here: the exception stubs and gt64_enter_user(); user mode
 * returns through a ud2 at gt64_user_exit_ud2 (see there).
 */
#include "osprey_pv.h"
#include "pvh.h"
#include "gt64_defs.h"

	/* Xen PVH entry note: name "Xen", type 18, 32-bit physical entry. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 2f - 1f                   /* namesz */
	.long 4f - 3f                   /* descsz */
	.long OSPREY_XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz OSPREY_PVH_NOTE_NAME
2:	.balign 4
3:	.long _start
4:	.balign 4

	.section .text.start, "ax", @progbits
	.code32
	.globl _start
_start:
	cli
	cld
	movl %ebx, %esi                 /* start_info, kept in ESI/RSI */
	lgdt gt64_gdt_desc32
	movl $GT64_KERNEL_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $gt64_kstack_top, %esp
	/* CR4.PAE, CR3, EFER.LME, then CR0.PG (and PE, already set). */
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $gt64_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	/* Compatibility mode now; a far return into the 64-bit segment. */
	pushl $GT64_KERNEL_CS
	pushl $1f
	lretl

	.code64
1:	movl $GT64_KERNEL_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $gt64_kstack_top, %rsp
	xorl %ebp, %ebp

	/* Zero .bss (small: big buffers live in .bigbss). */
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq

	movq %rsi, %rdi                 /* const struct osprey_hvm_start_info * */
	call test_main
	call poweroff                   /* does not return */
2:	cli
	hlt
	jmp 2b

/*
 * uint64_t gt64_enter_user(uint64_t (*fn)(void *), void *arg,
 *                          uint64_t user_rsp, uint64_t rflags)
 * Runs fn(arg) in user mode (CPL3) on the stack user_rsp with RFLAGS
 * rflags and returns what fn returned, once the user-mode trampoline has
 * passed it back through the ud2 at gt64_user_exit_ud2.
 */
	.text
	.globl gt64_enter_user
gt64_enter_user:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, gt64_saved_kernel_rsp(%rip)
	pushq $GT64_USER_DS             /* SS */
	pushq %rdx                      /* RSP */
	pushq %rcx                      /* RFLAGS */
	pushq $GT64_USER_CS             /* CS */
	pushq $gt64_user_trampoline     /* RIP */
	xchgq %rdi, %rsi                /* RDI = arg, RSI = fn */
	iretq

	/*
	 * User mode from here: call fn(arg), then hand its result back
	 * through a #UD at a known address.  (On kvm_pvm a software
	 * interrupt, int $N, from user mode raises #UD at the int itself,
	 * so a DPL-3 gate cannot be used to leave user mode.)
	 */
	.globl gt64_user_trampoline
gt64_user_trampoline:
	call *%rsi
	movq %rax, %rdi
	.globl gt64_user_exit_ud2
gt64_user_exit_ud2:
	ud2

	/* #UD: the user-mode exit above, or a real one. */
	.balign 16
gt64_trap_6:
	testb $3, 8(%rsp)               /* saved CS: from user mode? */
	jz 1f
	cmpq $gt64_user_exit_ud2, (%rsp) /* saved RIP */
	jne 1f
	movq %rdi, %rax
	movq gt64_saved_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
1:	pushq $0
	pushq $6
	jmp gt64_trap_common

/*
 * Exception stubs: push a zero error code where the CPU pushes none, then
 * the vector, and go to gt64_trap() with a struct gt64_frame.  gt64_trap()
 * does not return.
 */
	.macro TRAP_NOERR v
	.balign 16
gt64_trap_\v:
	pushq $0
	pushq $\v
	jmp gt64_trap_common
	.endm
	.macro TRAP_ERR v
	.balign 16
gt64_trap_\v:
	pushq $\v
	jmp gt64_trap_common
	.endm

	.irp v, 0,1,2,3,4,5,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	TRAP_NOERR \v
	.endr
	.irp v, 8,10,11,12,13,14,17,21,29,30
	TRAP_ERR \v
	.endr

gt64_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	andq $-16, %rsp
	call gt64_trap
	ud2

	.section .rodata, "a", @progbits
	.balign 8
	.globl gt64_trap_stubs
gt64_trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad gt64_trap_\v
	.endr

/*
 * GDT: 0x08 kernel code (64-bit), 0x10 kernel data, 0x18 user data,
 * 0x20 user code (64-bit), 0x28 the TSS (16 bytes, base filled in by
 * gt64_cpu_init(): gas cannot split a relocatable address into fields).
 */
	.section .data.pagetables, "aw", @progbits
	.balign 16
	.globl gt64_gdt
gt64_gdt:
	.quad 0
	.quad 0x00af9b000000ffff        /* 0x08: code, DPL 0, L=1 */
	.quad 0x00cf93000000ffff        /* 0x10: data, DPL 0 */
	.quad 0x00cff3000000ffff        /* 0x18: data, DPL 3 */
	.quad 0x00affb000000ffff        /* 0x20: code, DPL 3, L=1 */
	.globl gt64_gdt_tss
gt64_gdt_tss:
	.quad 0                         /* 0x28: TSS, low half */
	.quad 0                         /*       high half */
gt64_gdt_end:
	.balign 8
gt64_gdt_desc32:
	.word gt64_gdt_end - gt64_gdt - 1
	.long gt64_gdt

/*
 * Page tables: PML4[0] -> PDPT, PDPT[0..3] -> four page directories of
 * 2 MiB pages covering 0-4 GiB.  Present, writable, user (0x07 in the
 * upper levels, 0x87 with PS in the PDEs); the last GiB (0xc0000000 up:
 * virtio-mmio windows, boot marker, IO-APIC, LAPIC) also PCD|PWT.
 */
	.balign 4096
	.globl gt64_pml4
gt64_pml4:
	.quad gt64_pdpt + 0x07
	.fill 511, 8, 0
gt64_pdpt:
	.quad gt64_pd + 0x07
	.quad gt64_pd + 0x1000 + 0x07
	.quad gt64_pd + 0x2000 + 0x07
	.quad gt64_pd + 0x3000 + 0x07
	.fill 508, 8, 0
gt64_pd:
	.set gt64_addr, 0
	.rept 1536
	.quad gt64_addr + 0x87
	.set gt64_addr, gt64_addr + 0x200000
	.endr
	.rept 512
	.quad gt64_addr + 0x9f
	.set gt64_addr, gt64_addr + 0x200000
	.endr

	.section .bss
	.balign 8
gt64_saved_kernel_rsp:
	.quad 0

	.section .stack, "aw", @nobits
	.balign 16
	.space 16384
	.globl gt64_kstack_top
gt64_kstack_top:
	/* TSS.RSP0: entries from user mode (exceptions, the exit gate). */
	.space 16384
	.globl gt64_trap_stack_top
gt64_trap_stack_top:

	.section .note.GNU-stack, "", @progbits
