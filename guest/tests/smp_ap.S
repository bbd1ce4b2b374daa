/* SPDX-License-Identifier: MIT */
/*
 * smp_ap.S - application processor start-up for the smp test guest.
 *
 * smp_tramp_start..smp_tramp_end is position independent real-mode code
 * that smp.c copies to a 4 KiB aligned page below 1 MiB; the SIPI vector
 * makes the AP start there with CS = page >> 4, IP = 0.  It loads the
 * guest's flat GDT (gt_gdt in start.S), sets CR0.PE and far-jumps to
 * smp_ap_entry32 in the 1 MiB image.  Each AP then claims a slot, records
 * its local APIC ID there, bumps smp_ap_count and halts with interrupts off.
 * No stack is needed.
 */
#include "osprey_pv.h"
#include "smp.h"

	.section .rodata, "a", @progbits
	.balign 16
	.code16
	.globl smp_tramp_start, smp_tramp_end
smp_tramp_start:
	cli
	cld
	lgdtl %cs:(smp_tramp_gdtr - smp_tramp_start)
	movl %cr0, %eax
	orl $1, %eax                    /* PE */
	movl %eax, %cr0
	ljmpl $OSPREY_BOOT_CS, $smp_ap_entry32
	.balign 8
smp_tramp_gdtr:
	.word 4 * 8 - 1                 /* 4 descriptors, see start.S */
	.long gt_gdt
smp_tramp_end:

	.text
	.code32
smp_ap_entry32:
	movl $OSPREY_BOOT_DS, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, smp_ap_slot    /* eax = my slot */
	movl OSPREY_LAPIC_BASE + LAPIC_ID, %edx
	shrl $24, %edx
	cmpl $SMP_MAX_CPUS, %eax
	jae 1f
	movl %edx, smp_ap_apic_ids(, %eax, 4)
1:	lock incl smp_ap_count          /* after the ID is stored */
2:	cli
	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
