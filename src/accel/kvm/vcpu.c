// SPDX-License-Identifier: Apache-2.0
/*
 * The KVM backend, vCPU side: KVM_CREATE_VCPU with CPUID, boot MSRs,
 * LAPIC LINT0/1 and FPU; one KVM_RUN per vcpu_run() with every exit
 * dispatched through the PIO or MMIO bus; conversion between KVM's
 * register structs and the neutral struct x86_cpu_state; register dumps
 * and emulation-failure reports. Faults that end the guest (triple
 * fault, emulation failure, failed entry) dump the registers and return
 * ACCEL_RUN_CRASH.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm/kvm.h"
#include "arch/x86/insn.h"
#include "arch/x86/regs.h"
#include "base/log.h"
#include "base/metrics.h"
#include "hw/bus.h"
#include "hw/memory.h"
#include "hw/vmm_metrics.h"

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static struct kvm_vm *kvm_of(const struct accel_machine *m)
{
	return m->priv;
}

static struct kvm_vcpu *kv_of(const struct accel_vcpu *vcpu)
{
	return vcpu->priv;
}

static const struct {
	uint32_t index;
	uint64_t value;
} boot_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, 1 },		/* fast string operations */
	{ MSR_MTRR_DEF_TYPE, (1 << 11) | 6 }, /* MTRRs on, default write-back */
};

static int vcpu_set_msrs(struct accel_vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[sizeof(boot_msrs) / sizeof(boot_msrs[0])];
	} msrs;
	int n;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	for (unsigned i = 0; i < msrs.hdr.nmsrs; i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	n = ioctl(kv_of(vcpu)->fd, KVM_SET_MSRS, &msrs);
	if (n < 0)
		return -errno;
	if ((unsigned)n != msrs.hdr.nmsrs)
		log_debug("vcpu", "vcpu%u: KVM accepted %d of %u boot MSRs (MSR 0x%x refused)",
			  vcpu->id, n, msrs.hdr.nmsrs, msrs.entries[n].index);
	return 0;
}

static void lapic_set_lvt(struct kvm_lapic_state *lapic, unsigned reg, unsigned mode)
{
	uint32_t v;

	memcpy(&v, &lapic->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, 4);
}

static int vcpu_set_lapic(struct accel_vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	int fd = kv_of(vcpu)->fd;

	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* Virtual-wire mode: LINT0 carries the PIC, LINT1 the NMI. */
	lapic_set_lvt(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static int vcpu_set_fpu(struct accel_vcpu *vcpu)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(kv_of(vcpu)->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

/* osprey's CPUID table as KVM_SET_CPUID2 wants it. */
static int vcpu_set_cpuid(struct accel_vcpu *vcpu, const struct cpuid_table *c)
{
	struct kvm_cpuid2 *kc = calloc(1, sizeof(*kc) + c->nent * sizeof(kc->entries[0]));
	int ret = 0;

	if (!kc)
		return -ENOMEM;
	kc->nent = c->nent;
	for (unsigned i = 0; i < c->nent; i++) {
		const struct cpuid_entry *e = &c->entries[i];

		kc->entries[i] = (struct kvm_cpuid_entry2){
			.function = e->function,
			.index = e->index,
			.flags = (e->flags & CPUID_FLAG_INDEX) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
			.eax = e->eax,
			.ebx = e->ebx,
			.ecx = e->ecx,
			.edx = e->edx,
		};
	}
	if (ioctl(kv_of(vcpu)->fd, KVM_SET_CPUID2, kc) < 0)
		ret = -errno;
	free(kc);
	return ret;
}

int kvm_vcpu_create(struct accel_vcpu *vcpu, const struct cpuid_table *cpuid)
{
	struct accel_machine *m = vcpu->machine;
	struct kvm_vcpu *kv = calloc(1, sizeof(*kv));
	const char *step;
	int ret;

	if (!kv)
		return -ENOMEM;
	kv->fd = -1;
	vcpu->priv = kv;
	kv->fd = ioctl(kvm_of(m)->vm_fd, KVM_CREATE_VCPU, (unsigned long)vcpu->id);
	if (kv->fd < 0) {
		kv->fd = -1;
		step = "KVM_CREATE_VCPU";
		ret = -errno;
		goto fail;
	}
	kv->run = mmap(NULL, (size_t)kvm_of(m)->run_mmap_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, kv->fd, 0);
	if (kv->run == MAP_FAILED) {
		kv->run = NULL;
		step = "mmap of kvm_run";
		ret = -errno;
		goto fail;
	}
	step = "KVM_SET_CPUID2";
	ret = vcpu_set_cpuid(vcpu, cpuid);
	if (!ret) {
		step = "KVM_SET_MSRS";
		ret = vcpu_set_msrs(vcpu);
	}
	if (!ret) {
		step = "local APIC setup";
		ret = vcpu_set_lapic(vcpu);
	}
	if (!ret) {
		step = "KVM_SET_FPU";
		ret = vcpu_set_fpu(vcpu);
	}
	if (ret)
		goto fail;
	return 0;
fail:
	errno = -ret;
	log_err("vcpu", "vcpu%u: %s failed", vcpu->id, step);
	return ret;
}

/* ---- neutral state <-> KVM structs ---- */

static void seg_to_kvm(const struct x86_segment *s, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->type;
	k->s = s->s;
	k->dpl = s->dpl;
	k->present = s->present;
	k->avl = s->avl;
	k->l = s->l;
	k->db = s->db;
	k->g = s->g;
	k->unusable = s->unusable;
}

static void seg_from_kvm(const struct kvm_segment *k, struct x86_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	s->type = k->type;
	s->s = k->s;
	s->dpl = k->dpl;
	s->present = k->present;
	s->avl = k->avl;
	s->l = k->l;
	s->db = k->db;
	s->g = k->g;
	s->unusable = k->unusable;
}

static void regs_to_kvm(const struct x86_cpu_state *s, struct kvm_regs *r)
{
	r->rax = s->gpr[X86_RAX];
	r->rbx = s->gpr[X86_RBX];
	r->rcx = s->gpr[X86_RCX];
	r->rdx = s->gpr[X86_RDX];
	r->rsi = s->gpr[X86_RSI];
	r->rdi = s->gpr[X86_RDI];
	r->rsp = s->gpr[X86_RSP];
	r->rbp = s->gpr[X86_RBP];
	r->r8 = s->gpr[X86_R8];
	r->r9 = s->gpr[X86_R9];
	r->r10 = s->gpr[X86_R10];
	r->r11 = s->gpr[X86_R11];
	r->r12 = s->gpr[X86_R12];
	r->r13 = s->gpr[X86_R13];
	r->r14 = s->gpr[X86_R14];
	r->r15 = s->gpr[X86_R15];
	r->rip = s->rip;
	r->rflags = s->rflags;
}

static void regs_from_kvm(const struct kvm_regs *r, struct x86_cpu_state *s)
{
	s->gpr[X86_RAX] = r->rax;
	s->gpr[X86_RBX] = r->rbx;
	s->gpr[X86_RCX] = r->rcx;
	s->gpr[X86_RDX] = r->rdx;
	s->gpr[X86_RSI] = r->rsi;
	s->gpr[X86_RDI] = r->rdi;
	s->gpr[X86_RSP] = r->rsp;
	s->gpr[X86_RBP] = r->rbp;
	s->gpr[X86_R8] = r->r8;
	s->gpr[X86_R9] = r->r9;
	s->gpr[X86_R10] = r->r10;
	s->gpr[X86_R11] = r->r11;
	s->gpr[X86_R12] = r->r12;
	s->gpr[X86_R13] = r->r13;
	s->gpr[X86_R14] = r->r14;
	s->gpr[X86_R15] = r->r15;
	s->rip = r->rip;
	s->rflags = r->rflags;
}

static struct kvm_segment *sreg_slot(struct kvm_sregs *k, unsigned i)
{
	switch (i) {
	case X86_ES:
		return &k->es;
	case X86_CS:
		return &k->cs;
	case X86_SS:
		return &k->ss;
	case X86_DS:
		return &k->ds;
	case X86_FS:
		return &k->fs;
	case X86_GS:
		return &k->gs;
	case X86_LDTR:
		return &k->ldt;
	default:
		return &k->tr;
	}
}

int kvm_vcpu_get_state(struct accel_vcpu *vcpu, struct x86_cpu_state *s)
{
	int fd = kv_of(vcpu)->fd;
	struct kvm_regs r;
	struct kvm_sregs k;

	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &k) < 0)
		return -errno;
	regs_from_kvm(&r, s);
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		seg_from_kvm(sreg_slot(&k, i), &s->seg[i]);
	s->gdt.base = k.gdt.base;
	s->gdt.limit = k.gdt.limit;
	s->idt.base = k.idt.base;
	s->idt.limit = k.idt.limit;
	s->cr0 = k.cr0;
	s->cr2 = k.cr2;
	s->cr3 = k.cr3;
	s->cr4 = k.cr4;
	s->cr8 = k.cr8;
	s->efer = k.efer;
	s->msr.apic_base = k.apic_base;
	s->apic_id = vcpu->id;
	return 0;
}

int kvm_vcpu_set_state(struct accel_vcpu *vcpu, const struct x86_cpu_state *s)
{
	int fd = kv_of(vcpu)->fd;
	struct kvm_regs r;
	struct kvm_sregs k;

	/* Read first: what the neutral state does not carry stays as KVM has it. */
	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &k) < 0)
		goto fail;
	for (unsigned i = 0; i < X86_NR_SREGS; i++)
		seg_to_kvm(&s->seg[i], sreg_slot(&k, i));
	k.gdt.base = s->gdt.base;
	k.gdt.limit = s->gdt.limit;
	k.idt.base = s->idt.base;
	k.idt.limit = s->idt.limit;
	k.cr0 = s->cr0;
	k.cr2 = s->cr2;
	k.cr3 = s->cr3;
	k.cr4 = s->cr4;
	k.cr8 = s->cr8;
	k.efer = s->efer;
	if (s->msr.apic_base)
		k.apic_base = s->msr.apic_base;
	if (ioctl(fd, KVM_SET_SREGS, &k) < 0)
		goto fail;
	regs_to_kvm(s, &r);
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		goto fail;
	return 0;
fail:
	log_err("vcpu", "vcpu%u: cannot set the CPU state", vcpu->id);
	return -errno;
}

/* ---- reports ---- */

static void print_seg(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel 0x%04x base 0x%016llx limit 0x%08x type %u dpl %u l %u db %u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->l,
		s->db);
}

void kvm_vcpu_dump(struct accel_vcpu *vcpu)
{
	int fd = kv_of(vcpu)->fd;
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0) {
		log_err("vcpu", "vcpu%u: cannot read registers", vcpu->id);
		return;
	}
	fprintf(stderr,
		"osprey: vcpu%u registers:\n"
		"  rip 0x%016llx rsp 0x%016llx rflags 0x%08llx\n"
		"  rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx\n"
		"  rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx\n"
		"  r8  0x%016llx r9  0x%016llx r10 0x%016llx r11 0x%016llx\n"
		"  r12 0x%016llx r13 0x%016llx r14 0x%016llx r15 0x%016llx\n"
		"  cr0 0x%016llx cr2 0x%016llx cr3 0x%016llx cr4 0x%016llx\n"
		"  efer 0x%llx apic_base 0x%llx gdt 0x%llx/%u idt 0x%llx/%u\n",
		vcpu->id, r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer, s.apic_base, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	print_seg("cs", &s.cs);
	print_seg("ss", &s.ss);
	print_seg("ds", &s.ds);
	print_seg("tr", &s.tr);
}

/* Reads instruction bytes at the current RIP through the guest's page tables. */
static size_t vcpu_fetch_insn(struct accel_vcpu *vcpu, uint8_t *buf, size_t max)
{
	int fd = kv_of(vcpu)->fd;
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t linear;
	size_t got = 0;

	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0)
		return 0;
	linear = s.cs.base + r.rip;
	while (got < max) {
		struct kvm_translation tr = { .linear_address = linear + got };
		uint64_t gpa, chunk;

		if (!(s.cr0 & X86_CR0_PG)) {
			gpa = tr.linear_address & 0xffffffffULL;
		} else {
			if (ioctl(fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
				break;
			gpa = tr.physical_address;
		}
		chunk = 4096 - (gpa & 4095);
		if (chunk > max - got)
			chunk = max - got;
		if (guest_mem_read(vcpu->machine->mem, gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/* The bytes KVM failed on: from the exit if it gives them, else from RIP. */
static size_t vcpu_failed_insn(struct accel_vcpu *vcpu, uint8_t *bytes, size_t max)
{
	struct kvm_run *run = kv_of(vcpu)->run;
	size_t n;

	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size > 0) {
		n = run->emulation_failure.insn_size;
		if (n > max)
			n = max;
		memcpy(bytes, run->emulation_failure.insn_bytes, n);
		return n;
	}
	return vcpu_fetch_insn(vcpu, bytes, max);
}

/*
 * Completes the few instructions osprey can finish for KVM (int3, fwait).
 * Returns true when the guest can go on.
 */
static bool vcpu_emulate_fallback(struct accel_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kv_of(vcpu);
	uint8_t bytes[15];
	size_t n = vcpu_failed_insn(vcpu, bytes, sizeof(bytes));
	enum x86_emulated what = x86_emulate_classify(bytes, n);
	int ret;

	if (what == X86_EMULATED_NONE)
		return false;
	ret = kvm_emulate_complete(kv->fd, what);
	if (ret) {
		errno = -ret;
		log_err("vcpu", "vcpu%u: cannot complete %s for KVM", vcpu->id,
			what == X86_EMULATED_INT3 ? "int3" : "fwait");
		return false;
	}
	metrics_inc(&vcpu_exit_metrics.emulated_insns);
	if (kv->emulated_insns++ == 0)
		log_info("vcpu", "vcpu%u: completing %s that KVM could not emulate", vcpu->id,
			 what == X86_EMULATED_INT3 ? "int3" : "fwait");
	return true;
}

static void vcpu_report_emulation_failure(struct accel_vcpu *vcpu)
{
	uint8_t bytes[15];
	size_t n = vcpu_failed_insn(vcpu, bytes, sizeof(bytes));
	char name[96], hex[15 * 3 + 1] = "";
	struct kvm_regs r;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + i * 3, sizeof(hex) - i * 3, "%02x ", bytes[i]);
	if (n)
		hex[n * 3 - 1] = '\0';
	if (ioctl(kv_of(vcpu)->fd, KVM_GET_REGS, &r) < 0)
		memset(&r, 0, sizeof(r));
	log_errx("vcpu",
		 "vcpu%u: KVM cannot emulate the guest instruction at rip 0x%llx: %s [%s]%s",
		 vcpu->id, (unsigned long long)r.rip,
		 n ? x86_insn_name(bytes, n, name, sizeof(name)) : "(bytes unreadable)", hex,
		 strcmp(vcpu->machine->cpu_template, "emulated") ?
			 " (on hosts that emulate guest kernel code try --cpu-template emulated)" :
			 "");
}

static void vcpu_handle_io(struct accel_vcpu *vcpu)
{
	struct kvm_run *run = kv_of(vcpu)->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++) {
		if (!bus_dispatch(vcpu->machine->pio, run->io.port, is_write, data, run->io.size))
			log_debug("pio", "vcpu%u: unclaimed %s port 0x%x size %u", vcpu->id,
				  is_write ? "write to" : "read from", run->io.port, run->io.size);
		data += run->io.size;
	}
}

static enum accel_run vcpu_crash(struct accel_vcpu *vcpu)
{
	kvm_vcpu_dump(vcpu);
	return ACCEL_RUN_CRASH;
}

static enum accel_run vcpu_handle_exit(struct accel_vcpu *vcpu)
{
	struct kvm_run *run = kv_of(vcpu)->run;
	struct accel_machine *m = vcpu->machine;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return ACCEL_RUN_AGAIN;
	case KVM_EXIT_MMIO:
		if (!bus_dispatch(m->mmio, run->mmio.phys_addr, run->mmio.is_write,
				  run->mmio.data, run->mmio.len))
			log_debug("mmio", "vcpu%u: unclaimed %s 0x%llx size %u", vcpu->id,
				  run->mmio.is_write ? "write to" : "read from",
				  (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return ACCEL_RUN_AGAIN;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return ACCEL_RUN_AGAIN;
	case KVM_EXIT_SHUTDOWN:
		log_errx("vcpu", "vcpu%u: guest triple fault (KVM_EXIT_SHUTDOWN)", vcpu->id);
		return vcpu_crash(vcpu);
	case KVM_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    vcpu_emulate_fallback(vcpu))
			return ACCEL_RUN_AGAIN;
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			vcpu_report_emulation_failure(vcpu);
		else
			log_errx("vcpu", "vcpu%u: KVM internal error, suberror %u", vcpu->id,
				 run->internal.suberror);
		return vcpu_crash(vcpu);
	case KVM_EXIT_FAIL_ENTRY:
		log_errx("vcpu", "vcpu%u: KVM could not enter the guest (reason 0x%llx)", vcpu->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return vcpu_crash(vcpu);
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			return ACCEL_RUN_POWEROFF;
		case KVM_SYSTEM_EVENT_RESET:
			return ACCEL_RUN_REBOOT;
		default:
			log_errx("vcpu", "vcpu%u: guest crash event %u", vcpu->id,
				 run->system_event.type);
			return ACCEL_RUN_CRASH;
		}
	default:
		log_errx("vcpu", "vcpu%u: unexpected KVM exit reason %u", vcpu->id, run->exit_reason);
		return vcpu_crash(vcpu);
	}
}

/* KVM's exit reason as the "vcpu" metrics count it. */
static unsigned vcpu_metrics_reason(const struct kvm_run *run, int *is_write)
{
	*is_write = 0;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		*is_write = run->io.direction == KVM_EXIT_IO_OUT;
		return VCPU_EXIT_IO;
	case KVM_EXIT_MMIO:
		*is_write = run->mmio.is_write;
		return VCPU_EXIT_MMIO;
	case KVM_EXIT_HLT:
		return VCPU_EXIT_HLT;
	case KVM_EXIT_INTR:
		return VCPU_EXIT_INTR;
	case KVM_EXIT_SHUTDOWN:
		return VCPU_EXIT_SHUTDOWN;
	case KVM_EXIT_INTERNAL_ERROR:
		return VCPU_EXIT_INTERNAL_ERROR;
	case KVM_EXIT_FAIL_ENTRY:
		return VCPU_EXIT_FAIL_ENTRY;
	case KVM_EXIT_SYSTEM_EVENT:
		return VCPU_EXIT_SYSTEM_EVENT;
	default:
		return VCPU_EXIT_OTHER;
	}
}

enum accel_run kvm_vcpu_run(struct accel_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kv_of(vcpu);
	unsigned reason;
	int is_write;

	if (ioctl(kv->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			kv->run->immediate_exit = 0;
			return ACCEL_RUN_AGAIN;
		}
		log_err("vcpu", "vcpu%u: KVM_RUN failed", vcpu->id);
		return ACCEL_RUN_ERROR;
	}
	if (kv->run->exit_reason < KVM_VCPU_EXIT_REASONS)
		kv->exits[kv->run->exit_reason]++;
	reason = vcpu_metrics_reason(kv->run, &is_write);
	vmm_metrics_exit(reason, is_write);
	return vcpu_handle_exit(vcpu);
}

void kvm_vcpu_log_stats(const struct accel_vcpu *vcpu)
{
	static const char *const names[KVM_VCPU_EXIT_REASONS] = {
		[KVM_EXIT_IO] = "io",
		[KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
		[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	};
	const struct kvm_vcpu *kv = kv_of(vcpu);
	char buf[512];
	size_t used = 0;
	uint64_t total = 0;

	if (!kv || log_get_level() < LOG_LEVEL_INFO)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < KVM_VCPU_EXIT_REASONS; i++) {
		int n;

		if (!kv->exits[i])
			continue;
		total += kv->exits[i];
		if (names[i])
			n = snprintf(buf + used, sizeof(buf) - used, " %s %llu", names[i],
				     (unsigned long long)kv->exits[i]);
		else
			n = snprintf(buf + used, sizeof(buf) - used, " reason-%u %llu", i,
				     (unsigned long long)kv->exits[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	log_info("vcpu", "vcpu%u: %llu exits:%s", vcpu->id, (unsigned long long)total, buf);
}

void kvm_vcpu_kick(struct accel_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kv_of(vcpu);

	if (!vcpu->thread_started || !kv || !kv->run)
		return;
	__atomic_store_n(&kv->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, SIGUSR1);
}

void kvm_vcpu_destroy(struct accel_vcpu *vcpu)
{
	struct kvm_vcpu *kv = kv_of(vcpu);

	if (!kv)
		return;
	if (kv->run)
		munmap(kv->run, (size_t)kvm_of(vcpu->machine)->run_mmap_size);
	if (kv->fd >= 0)
		close(kv->fd);
	free(kv);
	vcpu->priv = NULL;
}
