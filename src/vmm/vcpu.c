// SPDX-License-Identifier: Apache-2.0
/*
 * vCPU threads: one thread per vCPU runs KVM_RUN and dispatches every exit
 * through the PIO or MMIO bus. Faults that end the guest (triple fault,
 * emulation failure, failed entry) dump the registers and end the run
 * with VM_EXIT_CRASH.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/cpuid.h"
#include "arch/x86/emulate.h"
#include "arch/x86/insn.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "base/log.h"
#include "vmm/vm.h"

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

static int vcpu_set_msrs(struct vcpu *vcpu)
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
	n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
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

static int vcpu_set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	/* Virtual-wire mode: LINT0 carries the PIC, LINT1 the NMI. */
	lapic_set_lvt(&lapic, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&lapic, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

static int vcpu_set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id, const struct kvm_cpuid2 *base)
{
	const char *step;
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		vcpu->fd = -1;
		step = "KVM_CREATE_VCPU";
		ret = -errno;
		goto fail;
	}
	vcpu->run = mmap(NULL, (size_t)vm->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		step = "mmap of kvm_run";
		ret = -errno;
		goto fail;
	}
	vcpu->cpuid = cpuid_dup(base);
	if (!vcpu->cpuid) {
		step = "CPUID table";
		ret = -ENOMEM;
		goto fail;
	}
	cpuid_set_topology(vcpu->cpuid, id, vm->ncpus);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, vcpu->cpuid) < 0) {
		step = "KVM_SET_CPUID2";
		ret = -errno;
		goto fail;
	}
	step = "KVM_SET_MSRS";
	ret = vcpu_set_msrs(vcpu);
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
	log_err("vcpu", "vcpu%u: %s failed", id, step);
	return ret;
}

int vcpu_setup_boot(struct vcpu *vcpu, enum x86_entry_mode mode, uint64_t entry,
		    uint64_t param)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		goto fail;
	x86_boot_sregs(&sregs, mode);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		goto fail;
	x86_boot_regs(&regs, mode, entry, param);
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		goto fail;
	return 0;
fail:
	log_err("vcpu", "vcpu%u: cannot set the boot CPU state", vcpu->id);
	return -errno;
}

static void print_seg(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel 0x%04x base 0x%016llx limit 0x%08x type %u dpl %u l %u db %u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->dpl, s->l,
		s->db);
}

void vcpu_dump_registers(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
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
static size_t vcpu_fetch_insn(struct vcpu *vcpu, uint8_t *buf, size_t max)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t linear;
	size_t got = 0;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return 0;
	linear = s.cs.base + r.rip;
	while (got < max) {
		struct kvm_translation tr = { .linear_address = linear + got };
		uint64_t gpa, chunk;

		if (!(s.cr0 & X86_CR0_PG)) {
			gpa = tr.linear_address & 0xffffffffULL;
		} else {
			if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
				break;
			gpa = tr.physical_address;
		}
		chunk = 4096 - (gpa & 4095);
		if (chunk > max - got)
			chunk = max - got;
		if (guest_mem_read(&vcpu->vm->mem, gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/* The bytes KVM failed on: from the exit if it gives them, else from RIP. */
static size_t vcpu_failed_insn(struct vcpu *vcpu, uint8_t *bytes, size_t max)
{
	struct kvm_run *run = vcpu->run;
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
static bool vcpu_emulate_fallback(struct vcpu *vcpu)
{
	uint8_t bytes[15];
	size_t n = vcpu_failed_insn(vcpu, bytes, sizeof(bytes));
	enum x86_emulated what = x86_emulate_classify(bytes, n);
	int ret;

	if (what == X86_EMULATED_NONE)
		return false;
	ret = x86_emulate_complete(vcpu->fd, what);
	if (ret) {
		errno = -ret;
		log_err("vcpu", "vcpu%u: cannot complete %s for KVM", vcpu->id,
			what == X86_EMULATED_INT3 ? "int3" : "fwait");
		return false;
	}
	if (vcpu->emulated_insns++ == 0)
		log_info("vcpu", "vcpu%u: completing %s that KVM could not emulate", vcpu->id,
			 what == X86_EMULATED_INT3 ? "int3" : "fwait");
	return true;
}

static void vcpu_report_emulation_failure(struct vcpu *vcpu)
{
	uint8_t bytes[15];
	size_t n = vcpu_failed_insn(vcpu, bytes, sizeof(bytes));
	char name[96], hex[15 * 3 + 1] = "";
	struct kvm_regs r;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + i * 3, sizeof(hex) - i * 3, "%02x ", bytes[i]);
	if (n)
		hex[n * 3 - 1] = '\0';
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0)
		memset(&r, 0, sizeof(r));
	log_errx("vcpu",
		 "vcpu%u: KVM cannot emulate the guest instruction at rip 0x%llx: %s [%s]%s",
		 vcpu->id, (unsigned long long)r.rip,
		 n ? x86_insn_name(bytes, n, name, sizeof(name)) : "(bytes unreadable)", hex,
		 strcmp(vcpu->vm->tmpl->name, "emulated") ?
			 " (on hosts that emulate guest kernel code try --cpu-template emulated)" :
			 "");
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++) {
		if (!bus_dispatch(&vcpu->vm->pio, run->io.port, is_write, data, run->io.size))
			log_debug("pio", "vcpu%u: unclaimed %s port 0x%x size %u", vcpu->id,
				  is_write ? "write to" : "read from", run->io.port, run->io.size);
		data += run->io.size;
	}
}

/* Returns false when the run is over for this vCPU. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		if (!bus_dispatch(&vm->mmio, run->mmio.phys_addr, run->mmio.is_write,
				  run->mmio.data, run->mmio.len))
			log_debug("mmio", "vcpu%u: unclaimed %s 0x%llx size %u", vcpu->id,
				  run->mmio.is_write ? "write to" : "read from",
				  (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_SHUTDOWN:
		log_errx("vcpu", "vcpu%u: guest triple fault (KVM_EXIT_SHUTDOWN)", vcpu->id);
		vcpu_dump_registers(vcpu);
		vm_request_exit(vm, VM_EXIT_CRASH);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    vcpu_emulate_fallback(vcpu))
			return true;
		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
			vcpu_report_emulation_failure(vcpu);
		else
			log_errx("vcpu", "vcpu%u: KVM internal error, suberror %u", vcpu->id,
				 run->internal.suberror);
		vcpu_dump_registers(vcpu);
		vm_request_exit(vm, VM_EXIT_CRASH);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		log_errx("vcpu", "vcpu%u: KVM could not enter the guest (reason 0x%llx)", vcpu->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump_registers(vcpu);
		vm_request_exit(vm, VM_EXIT_CRASH);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, VM_EXIT_POWEROFF);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_exit(vm, VM_EXIT_REBOOT);
			break;
		default:
			log_errx("vcpu", "vcpu%u: guest crash event %u", vcpu->id,
				 run->system_event.type);
			vm_request_exit(vm, VM_EXIT_CRASH);
			break;
		}
		return false;
	default:
		log_errx("vcpu", "vcpu%u: unexpected KVM exit reason %u", vcpu->id, run->exit_reason);
		vcpu_dump_registers(vcpu);
		vm_request_exit(vm, VM_EXIT_CRASH);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE)) {
		vcpu_pause_point(vcpu);
		if (__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
			break;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			log_err("vcpu", "vcpu%u: KVM_RUN failed", vcpu->id);
			vm_request_exit(vm, VM_EXIT_ERROR);
			break;
		}
		if (vcpu->run->exit_reason < VCPU_EXIT_REASONS)
			vcpu->exits[vcpu->run->exit_reason]++;
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	vcpu_thread_exited(vcpu);
	return NULL;
}

void vcpu_log_exit_stats(const struct vcpu *vcpu)
{
	static const char *const names[VCPU_EXIT_REASONS] = {
		[KVM_EXIT_IO] = "io",
		[KVM_EXIT_MMIO] = "mmio",
		[KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_INTERNAL_ERROR] = "internal-error",
		[KVM_EXIT_SYSTEM_EVENT] = "system-event",
	};
	char buf[512];
	size_t used = 0;
	uint64_t total = 0;

	if (log_get_level() < LOG_LEVEL_INFO)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < VCPU_EXIT_REASONS; i++) {
		int n;

		if (!vcpu->exits[i])
			continue;
		total += vcpu->exits[i];
		if (names[i])
			n = snprintf(buf + used, sizeof(buf) - used, " %s %llu", names[i],
				     (unsigned long long)vcpu->exits[i]);
		else
			n = snprintf(buf + used, sizeof(buf) - used, " reason-%u %llu", i,
				     (unsigned long long)vcpu->exits[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	log_info("vcpu", "vcpu%u: %llu exits:%s", vcpu->id, (unsigned long long)total, buf);
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret) {
		errno = ret;
		log_err("vcpu", "cannot start the thread of vcpu%u", vcpu->id);
		return -ret;
	}
	vcpu->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, SIGUSR1);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->run_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	free(vcpu->cpuid);
	vcpu->run = NULL;
	vcpu->fd = -1;
	vcpu->cpuid = NULL;
}
