/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend-neutral state of one x86-64 vCPU: everything architectural
 * that a snapshot or a migration must carry. The software CPU uses it as
 * its register file; the KVM backend converts it to and from KVM's
 * structs (accel/kvm). Plain data: no pointers, no host resources, no
 * <linux/kvm.h> type. Changing the layout changes the snapshot format:
 * bump X86_CPU_STATE_VERSION.
 */
#ifndef OSPREY_ARCH_X86_CPU_STATE_H
#define OSPREY_ARCH_X86_CPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define X86_CPU_STATE_VERSION 2

/* General-purpose registers in encoding order (ModRM/REX numbering). */
enum x86_gpr {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NR_GPRS
};

/* Segment registers in encoding order, then the system segments. */
enum x86_sreg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_LDTR, X86_TR, X86_NR_SREGS };

/* A segment register with its hidden part (the descriptor cache). */
struct x86_segment {
	uint64_t base;
	uint32_t limit; /* byte granular (already scaled by G) */
	uint16_t selector;
	uint8_t type;	/* descriptor type field, 4 bits */
	uint8_t s;	/* 1 = code/data, 0 = system */
	uint8_t dpl;
	uint8_t present;
	uint8_t avl;
	uint8_t l;	/* 64-bit code segment */
	uint8_t db;	/* default operand size 32 */
	uint8_t g;
	uint8_t unusable;
	uint8_t pad;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

/* The FXSAVE (64-bit) image: 512 bytes, the same layout in memory. */
struct x86_fxsave {
	uint16_t fcw;
	uint16_t fsw;
	uint8_t ftw; /* abridged tag word: bit i set = st(i) physical register valid */
	uint8_t reserved1;
	uint16_t fop;
	uint64_t fip;
	uint64_t fdp;
	uint32_t mxcsr;
	uint32_t mxcsr_mask;
	uint8_t st[8][16]; /* 80-bit registers in 16-byte slots, physical order R0..R7 */
	uint8_t xmm[16][16];
	uint8_t reserved2[96];
} __attribute__((aligned(16)));
_Static_assert(sizeof(struct x86_fxsave) == 512, "FXSAVE image is 512 bytes");

/* Multiprocessor state, as the INIT/SIPI protocol moves it. */
enum x86_mp_state {
	X86_MP_RUNNABLE,
	X86_MP_WAIT_SIPI, /* application processor after INIT, before SIPI */
	X86_MP_HALTED,	  /* HLT, waiting for an interrupt */
	X86_MP_STOPPED,	  /* shut down (triple fault) */
};

/* MSRs osprey keeps architecturally (indices in arch/x86/msr.h). */
struct x86_msrs {
	uint64_t apic_base;
	uint64_t star, lstar, cstar, sfmask;
	uint64_t kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t tsc_aux;
	uint64_t pat;
	uint64_t misc_enable;
	uint64_t mtrr_def_type;
	uint64_t tsc_deadline;
	uint64_t kvm_system_time; /* MSR_KVM_SYSTEM_TIME_NEW: gpa | enable */
	uint64_t kvm_wall_clock;  /* MSR_KVM_WALL_CLOCK_NEW: last gpa written */
	uint64_t kvm_pv_eoi;	  /* MSR_KVM_PV_EOI_EN */
	uint64_t spec_ctrl;
};

/* An event being delivered, or waiting to be, when the state was taken. */
struct x86_events {
	uint8_t exception_pending;
	uint8_t exception_vector;
	uint8_t exception_has_error;
	uint32_t exception_error;
	uint8_t nmi_pending;
	uint8_t nmi_masked;	  /* inside an NMI handler (until IRET) */
	uint8_t interrupt_shadow; /* after MOV SS / STI: no interrupt for one insn */
	uint8_t sipi_vector;
};

/* The local APIC register page (4 KiB map, 1 KiB of registers). */
#define X86_LAPIC_REGS_SIZE 1024

struct x86_cpu_state {
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
	struct x86_segment seg[X86_NR_SREGS];
	struct x86_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t xcr0;
	uint64_t dr[8]; /* dr0-dr3, (dr4, dr5 unused), dr6, dr7 */
	uint64_t tsc;	/* the guest TSC when the state was read */
	struct x86_msrs msr;
	struct x86_fxsave fpu;
	struct x86_events events;
	uint32_t mp_state; /* enum x86_mp_state */
	uint32_t apic_id;
	/* Local APIC registers at their xAPIC offsets (0x20 ID ... 0x3f0). */
	uint8_t lapic[X86_LAPIC_REGS_SIZE];
	/* The LAPIC timer beyond its registers (irqchip's struct lapic_snap). */
	uint64_t lapic_timer_remaining_ns; /* to the next expiry; UINT64_MAX: none */
	uint64_t lapic_timer_period_ns;	   /* periodic period (0: not periodic) */
	uint32_t lapic_esr_pending;
	uint8_t lapic_lint_level;
};

/*
 * The stream form (base/state.h), field by field; read validates what a
 * backend could not take (mp_state, segment fields, reserved bits it
 * knows) and fails r with a message. arch/x86/cpu_state_io.c.
 */
struct state_writer;
struct state_reader;
void x86_cpu_state_write(struct state_writer *w, const struct x86_cpu_state *s);
void x86_cpu_state_read(struct state_reader *r, struct x86_cpu_state *s);

/* RFLAGS bits. */
#define X86_FLAGS_CF (1u << 0)
#define X86_FLAGS_FIXED (1u << 1)
#define X86_FLAGS_PF (1u << 2)
#define X86_FLAGS_AF (1u << 4)
#define X86_FLAGS_ZF (1u << 6)
#define X86_FLAGS_SF (1u << 7)
#define X86_FLAGS_TF (1u << 8)
#define X86_FLAGS_IF (1u << 9)
#define X86_FLAGS_DF (1u << 10)
#define X86_FLAGS_OF (1u << 11)
#define X86_FLAGS_IOPL (3u << 12)
#define X86_FLAGS_NT (1u << 14)
#define X86_FLAGS_RF (1u << 16)
#define X86_FLAGS_VM (1u << 17)
#define X86_FLAGS_AC (1u << 18)
#define X86_FLAGS_VIF (1u << 19)
#define X86_FLAGS_VIP (1u << 20)
#define X86_FLAGS_ID (1u << 21)

/* Exception vectors. */
enum x86_vector {
	X86_VEC_DE = 0, X86_VEC_DB = 1, X86_VEC_NMI = 2, X86_VEC_BP = 3, X86_VEC_OF = 4,
	X86_VEC_BR = 5, X86_VEC_UD = 6, X86_VEC_NM = 7, X86_VEC_DF = 8, X86_VEC_TS = 10,
	X86_VEC_NP = 11, X86_VEC_SS = 12, X86_VEC_GP = 13, X86_VEC_PF = 14, X86_VEC_MF = 16,
	X86_VEC_AC = 17, X86_VEC_MC = 18, X86_VEC_XM = 19,
};

#endif
