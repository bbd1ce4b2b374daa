/* SPDX-License-Identifier: MIT */
/*
 * start.S - PVH entry point shared by all test guests.
 *
 * Entered in 32-bit protected mode, paging off, interrupts off,
 * EBX = guest-physical address of struct osprey_hvm_start_info.
 * Loads our own GDT (same selectors as the boot GDT, so the AP trampoline
 * can use it too), zeroes .bss, sets up a stack and calls
 * test_main(start_info).  If test_main returns, the guest powers off.
 */
#include "osprey_pv.h"
#include "pvh.h"

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
	lgdt gt_gdt_desc
	ljmp $OSPREY_BOOT_CS, $1f
1:	movl $OSPREY_BOOT_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $gt_stack_top, %esp
	xorl %ebp, %ebp

	/* Zero .bss (the loader should have, but don't rely on it). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	pushl %ebx                      /* const struct osprey_hvm_start_info * */
	call test_main
	call poweroff                   /* does not return */
2:	cli
	hlt
	jmp 2b

	/* Flat GDT: 0x10 = 32-bit code, 0x18 = data (accessed bits preset). */
	.section .rodata, "a", @progbits
	.balign 16
	.globl gt_gdt
gt_gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x10: code, base 0, 4 GiB, 32-bit */
	.quad 0x00cf93000000ffff        /* 0x18: data, base 0, 4 GiB */
gt_gdt_end:
	.balign 8
	.globl gt_gdt_desc
gt_gdt_desc:
	.word gt_gdt_end - gt_gdt - 1
	.long gt_gdt

	.section .stack, "aw", @nobits
	.balign 16
	.space 16384
gt_stack_top:

	.section .note.GNU-stack, "", @progbits
