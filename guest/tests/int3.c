/* SPDX-License-Identifier: MIT */
/*
 * int3 - a kernel-mode int3 with a real #BP handler, as Linux's
 * alternatives self-test and live code patching (text_poke_bp) use it.
 * On hardware hosts the CPU delivers #BP; on hosts whose KVM cannot
 * emulate int3 in guest kernel mode (kvm_pvm) osprey injects the #BP
 * itself. Either way the handler must run once per int3, with the saved
 * EIP just after the int3 byte.
 */
#include "gt.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t zero;
	uint8_t type_attr;
	uint16_t offset_hi;
} __attribute__((packed));

static struct idt_gate idt[32] __attribute__((aligned(8)));
static volatile uint32_t bp_count;
static volatile uint32_t bp_eip;

void bp_handler_c(uint32_t eip);
void bp_handler_c(uint32_t eip)
{
	bp_count++;
	bp_eip = eip;
}

/*
 * The CPU pushes EIP, CS, EFLAGS (no error code for #BP, same privilege).
 * The handler returns with `ret $8` (EIP, then drop CS and EFLAGS) rather
 * than iret: KVM's emulator has no 32-bit protected-mode iret, and this
 * guest tests int3, not iret. Interrupts stay off throughout.
 */
__asm__(".text\n"
	".globl bp_entry\n"
	"bp_entry:\n"
	"  pushal\n"
	"  pushl 32(%esp)\n" /* the saved EIP */
	"  call bp_handler_c\n"
	"  addl $4, %esp\n"
	"  popal\n"
	"  ret $8\n");
void bp_entry(void);

void test_main(const struct osprey_hvm_start_info *si)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} idtr = { sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	uint32_t h = (uint32_t)(uintptr_t)bp_entry;
	uint32_t after;

	(void)si;
	idt[3].offset_lo = (uint16_t)h;
	idt[3].offset_hi = (uint16_t)(h >> 16);
	idt[3].selector = OSPREY_BOOT_CS;
	idt[3].type_attr = 0x8f; /* present, DPL 0, 32-bit trap gate */
	__asm__ volatile("lidt %0" : : "m"(idtr));

	print("executing int3\n");
	for (int i = 0; i < 3; i++) {
		__asm__ volatile("int3\n"
				 "1: movl $1b, %0\n"
				 : "=r"(after)
				 :
				 : "memory");
	}
	print("int3 handled ");
	print_dec(bp_count);
	print(" times, eip ");
	print(bp_eip == after ? "after the int3" : "WRONG");
	print("\n");
	poweroff();
}
