// SPDX-License-Identifier: Apache-2.0
/*
 * The KVM backend, vCPU side: KVM_CREATE_VCPU with CPUID, boot MSRs,
 * LAPIC LINT0/1 and FPU; one KVM_RUN per vcpu_run() with every exit
 * dispatched through the PIO or MMIO bus; the neutral struct
 * x86_cpu_state read and loaded in KVM's order (the conversions are in
 * state.c, snapshots in docs/snapshots.md); register dumps
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
#include "accel/kvm/state.h"
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

/* A struct kvm_msrs for n entries, zeroed (free() it). */
static struct kvm_msrs *msrs_alloc(unsigned n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));

	if (m)
		m->nmsrs = n;
	return m;
}

static int vcpu_set_msrs(struct accel_vcpu *vcpu)
{
	unsigned count = sizeof(boot_msrs) / sizeof(boot_msrs[0]);
	struct kvm_msrs *msrs = msrs_alloc(count);
	int n;

	if (!msrs)
		return -ENOMEM;
	for (unsigned i = 0; i < count; i++) {
		msrs->entries[i].index = boot_msrs[i].index;
		msrs->entries[i].data = boot_msrs[i].value;
	}
	n = ioctl(kv_of(vcpu)->fd, KVM_SET_MSRS, msrs);
	if (n < 0) {
		n = -errno;
		free(msrs);
		return n;
	}
	if ((unsigned)n != count)
		log_debug("vcpu", "vcpu%u: KVM accepted %d of %u boot MSRs (MSR 0x%x refused)",
			  vcpu->id, n, count, msrs->entries[n].index);
	free(msrs);
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
	if (vcpu->id < kvm_of(m)->ncpus)
		kvm_of(m)->vcpus[vcpu->id] = kv;
	return 0;
fail:
	errno = -ret;
	log_err("vcpu", "vcpu%u: %s failed", vcpu->id, step);
	return ret;
}

/* ---- neutral state <-> KVM (conversions in state.c) ---- */

static int vcpu_ioctl(struct accel_vcpu *vcpu, unsigned long req, void *arg, const char *name)
{
	if (ioctl(kv_of(vcpu)->fd, req, arg) < 0) {
		int ret = -errno;

		log_err("vcpu", "vcpu%u: %s", vcpu->id, name);
		return ret;
	}
	return 0;
}

#define VCPU_IOCTL(vcpu, req, arg) vcpu_ioctl(vcpu, req, arg, #req)

/* One MSR through a struct kvm_msrs with a single entry. */
static int msr_one(struct kvm_vcpu *kv, unsigned long req, uint32_t index, uint64_t *value)
{
	struct kvm_msrs *m = msrs_alloc(1);
	int ret = 0;

	if (!m)
		return -ENOMEM;
	m->entries[0].index = index;
	m->entries[0].data = *value;
	errno = 0;
	if (ioctl(kv->fd, req, m) != 1)
		ret = errno ? -errno : -EINVAL;
	else
		*value = m->entries[0].data;
	free(m);
	return ret;
}

int kvm_vcpu_read_msr(struct kvm_vcpu *kv, uint32_t index, uint64_t *value)
{
	*value = 0;
	return msr_one(kv, KVM_GET_MSRS, index, value);
}

int kvm_vcpu_write_msr(struct kvm_vcpu *kv, uint32_t index, uint64_t value)
{
	return msr_one(kv, KVM_SET_MSRS, index, &value);
}

/*
 * Sets the guest TSC to value now. Through the vCPU's TSC offset
 * attribute (KVM_VCPU_TSC_CTRL, Linux 5.16+) when KVM has it: the offset
 * moves by value - the TSC read now, exactly (recent kernels accept a
 * host-initiated MSR_IA32_TSC write and keep the TSC as it was, and older
 * ones synchronize writes within a second of each other). Otherwise
 * MSR_IA32_TSC.
 */
int kvm_vcpu_set_tsc(struct kvm_vcpu *kv, uint64_t value)
{
	uint64_t now, offset = 0;
	struct kvm_device_attr attr = {
		.group = KVM_VCPU_TSC_CTRL,
		.attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uint64_t)(uintptr_t)&offset,
	};
	int ret;

	if (ioctl(kv->fd, KVM_HAS_DEVICE_ATTR, &attr) < 0)
		return kvm_vcpu_write_msr(kv, MSR_IA32_TSC, value);
	ret = kvm_vcpu_read_msr(kv, MSR_IA32_TSC, &now);
	if (ret)
		return ret;
	if (ioctl(kv->fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
		return -errno;
	offset += value - now; /* modulo 2^64, as KVM adds it */
	if (ioctl(kv->fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
		return -errno;
	return 0;
}

/*
 * The MSRs of the table. KVM_GET_MSRS stops at the first MSR it refuses:
 * an optional one reads as 0 (the host or the CPUID has no such MSR), a
 * required one fails the read.
 */
static int vcpu_get_msrs(struct accel_vcpu *vcpu, struct x86_cpu_state *s)
{
	struct kvm_msrs *b = msrs_alloc(kvm_state_nmsrs);
	unsigned done = 0;
	int ret = 0;

	if (!b)
		return -ENOMEM;
	while (done < kvm_state_nmsrs) {
		unsigned n = kvm_state_nmsrs - done;
		int got;

		memset(b->entries, 0, n * sizeof(b->entries[0]));
		b->nmsrs = n;
		for (unsigned i = 0; i < n; i++)
			b->entries[i].index = kvm_state_msrs[done + i].index;
		got = ioctl(kv_of(vcpu)->fd, KVM_GET_MSRS, b);
		if (got < 0) {
			ret = -errno;
			log_err("vcpu", "vcpu%u: KVM_GET_MSRS", vcpu->id);
			break;
		}
		for (unsigned i = 0; i < (unsigned)got && i < n; i++)
			kvm_state_msr_set(s, &kvm_state_msrs[done + i], b->entries[i].data);
		done += (unsigned)got;
		if (done < kvm_state_nmsrs) {
			const struct kvm_state_msr *m = &kvm_state_msrs[done];

			if (!(m->flags & KVM_MSR_OPTIONAL)) {
				log_errx("vcpu", "vcpu%u: KVM cannot read MSR %s (0x%x)", vcpu->id,
					 m->name, m->index);
				ret = -ENOTSUP;
				break;
			}
			log_debug("vcpu", "vcpu%u: KVM has no MSR %s (0x%x): 0 in the state",
				  vcpu->id, m->name, m->index);
			kvm_state_msr_set(s, m, 0);
			done++;
		}
	}
	free(b);
	return ret;
}

/*
 * Writes the table's MSRs but the TSC (kvm_vcpu_set_tsc). An MSR the host
 * refuses is skipped when its value is 0 and it is optional; any other
 * refusal fails with -EINVAL naming the MSR.
 */
static int vcpu_put_msrs(struct accel_vcpu *vcpu, const struct x86_cpu_state *s)
{
	const struct kvm_state_msr *list[KVM_STATE_MAX_MSRS];
	unsigned count = 0, done = 0;
	struct kvm_msrs *b = msrs_alloc(KVM_STATE_MAX_MSRS);
	int ret = 0;

	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < kvm_state_nmsrs && count < KVM_STATE_MAX_MSRS; i++) {
		const struct kvm_state_msr *m = &kvm_state_msrs[i];

		if (m->flags & KVM_MSR_TSC)
			continue; /* kvm_vcpu_set_tsc, before */
		if ((m->flags & KVM_MSR_SKIP_ZERO) && !kvm_state_msr_get(s, m))
			continue;
		list[count++] = m;
	}
	while (done < count) {
		unsigned n = count - done;
		int put;

		memset(b->entries, 0, n * sizeof(b->entries[0]));
		b->nmsrs = n;
		for (unsigned i = 0; i < n; i++) {
			b->entries[i].index = list[done + i]->index;
			b->entries[i].data = kvm_state_msr_get(s, list[done + i]);
		}
		put = ioctl(kv_of(vcpu)->fd, KVM_SET_MSRS, b);
		if (put < 0) {
			ret = -errno;
			log_err("vcpu", "vcpu%u: KVM_SET_MSRS", vcpu->id);
			break;
		}
		done += (unsigned)put;
		if (done < count) {
			const struct kvm_state_msr *m = list[done];
			uint64_t v = kvm_state_msr_get(s, m);

			if (v || !(m->flags & KVM_MSR_OPTIONAL)) {
				log_errx("vcpu", "vcpu%u: KVM refuses MSR %s (0x%x) = %#llx", vcpu->id,
					 m->name, m->index, (unsigned long long)v);
				ret = -EINVAL;
				break;
			}
			done++;
		}
	}
	free(b);
	return ret;
}

/*
 * All of struct x86_cpu_state (accel.h). Read order: MP state first
 * (KVM_GET_MP_STATE takes a pending INIT or SIPI, which changes the
 * registers), events next (without KVM_CAP_EXCEPTION_PAYLOAD reading them
 * delivers a pending #PF/#DB payload into CR2/DR6), then registers,
 * FPU/SSE, XCR0, LAPIC (the events may put an interrupt being injected
 * back into its IRR), MSRs, debug registers.
 */
int kvm_vcpu_get_state(struct accel_vcpu *vcpu, struct x86_cpu_state *s)
{
	struct kvm_vcpu *kv = kv_of(vcpu);
	struct kvm_vm *k = kvm_of(vcpu->machine);
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dbg;
	struct kvm_xsave *xs = NULL;
	uint32_t mp_state;
	int ret;

	if (!kv)
		return -ENODEV;
	memset(s, 0, sizeof(*s));
	ret = VCPU_IOCTL(vcpu, KVM_GET_MP_STATE, &mp);
	if (!ret && kvm_mp_state_to_x86(mp.mp_state, &mp_state)) {
		log_errx("vcpu", "vcpu%u: KVM MP state %u has no neutral form", vcpu->id,
			 mp.mp_state);
		ret = -EINVAL;
	}
	if (!ret)
		ret = VCPU_IOCTL(vcpu, KVM_GET_VCPU_EVENTS, &ev);
	if (!ret)
		ret = VCPU_IOCTL(vcpu, KVM_GET_REGS, &r);
	if (!ret)
		ret = VCPU_IOCTL(vcpu, KVM_GET_SREGS, &sr);
	if (ret)
		return ret;
	kvm_regs_to_state(&r, s);
	kvm_sregs_to_state(&sr, s);
	if (k->has_xsave) {
		xs = calloc(1, sizeof(*xs));
		if (!xs)
			return -ENOMEM;
		ret = VCPU_IOCTL(vcpu, KVM_GET_XSAVE, xs);
		if (!ret) {
			kvm_xsave_to_fxsave(xs, &s->fpu);
			if (kvm_xsave_extended(xs) && !kv->warned_xstate) {
				kv->warned_xstate = true;
				log_warnx("vcpu", "vcpu%u: XSAVE state components %#llx beyond "
					  "x87/SSE (AVX, PKRU...) are not part of the saved state",
					  vcpu->id, (unsigned long long)kvm_xsave_extended(xs));
			}
		}
		free(xs);
	} else {
		struct kvm_fpu fpu;

		ret = VCPU_IOCTL(vcpu, KVM_GET_FPU, &fpu);
		if (!ret)
			kvm_fpu_to_fxsave(&fpu, &s->fpu);
	}
	if (ret)
		return ret;
	s->xcr0 = 1;
	if (k->has_xcrs) {
		struct kvm_xcrs xcrs;

		ret = VCPU_IOCTL(vcpu, KVM_GET_XCRS, &xcrs);
		if (ret)
			return ret;
		for (unsigned i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
			if (xcrs.xcrs[i].xcr == 0)
				s->xcr0 = xcrs.xcrs[i].value;
	}
	ret = VCPU_IOCTL(vcpu, KVM_GET_LAPIC, &lapic);
	if (ret)
		return ret;
	kvm_lapic_to_state(&lapic, s);
	if (kvm_events_to_state(&ev, &s->events, s->lapic) < 0)
		log_warnx("vcpu", "vcpu%u: interrupt %u from the PIC being injected is not "
			  "part of the saved state", vcpu->id, ev.interrupt.nr);
	ret = vcpu_get_msrs(vcpu, s);
	if (!ret)
		ret = VCPU_IOCTL(vcpu, KVM_GET_DEBUGREGS, &dbg);
	if (ret)
		return ret;
	kvm_debugregs_to_state(&dbg, s);
	s->mp_state = mp_state;
	kv->got_tsc = s->tsc;
	return 0;
}

/*
 * Loads all of struct x86_cpu_state. Write order, each step needing the
 * ones before it:
 *   1. SREGS: CR0/CR3/CR4, EFER, segments, APIC base (the mode the rest
 *      is checked against; CR8 goes to the TPR, which step 4 overwrites);
 *   2. REGS;
 *   3. XCRS, then XSAVE (or FPU);
 *   4. LAPIC, after the APIC base (xAPIC/x2APIC mode decides how KVM reads
 *      the ID register) and before the MSRs (KVM ignores IA32_TSC_DEADLINE
 *      unless the LVT timer is in TSC-deadline mode);
 *   5. the TSC (kvm_vcpu_set_tsc; only when s->tsc is not what
 *      vcpu_get_state last returned, so that boot setup leaves the TSC
 *      running), then the other MSRs, the TSC deadline last;
 *   6. DEBUGREGS; 7. MP_STATE;
 *   8. VCPU_EVENTS last: pending exception, NMI, shadow and SIPI vector
 *      apply to the final registers and MP state.
 * A TSC loaded here is moved on by platform_load (platform.c).
 */
int kvm_vcpu_set_state(struct accel_vcpu *vcpu, const struct x86_cpu_state *s)
{
	struct kvm_vcpu *kv = kv_of(vcpu);
	struct kvm_vm *k = kvm_of(vcpu->machine);
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_regs r;
	struct kvm_sregs sr;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dbg;
	uint32_t mp_state;
	bool set_tsc;
	int ret;

	if (!kv)
		return -ENODEV;
	if (kvm_mp_state_from_x86(s->mp_state, &mp_state)) {
		log_errx("vcpu", "vcpu%u: MP state %u cannot be loaded into KVM", vcpu->id,
			 s->mp_state);
		return -EINVAL;
	}
	if (!k->has_xcrs && s->xcr0 > 1) {
		log_errx("vcpu", "vcpu%u: this host's KVM lacks KVM_CAP_XCRS: cannot load XCR0 %#llx",
			 vcpu->id, (unsigned long long)s->xcr0);
		return -ENOTSUP;
	}
	set_tsc = s->tsc != kv->got_tsc;
	ret = VCPU_IOCTL(vcpu, KVM_GET_SREGS, &sr);
	if (ret)
		return ret;
	kvm_sregs_from_state(s, &sr);
	ret = VCPU_IOCTL(vcpu, KVM_SET_SREGS, &sr);
	if (ret)
		return ret;
	kvm_regs_from_state(s, &r);
	ret = VCPU_IOCTL(vcpu, KVM_SET_REGS, &r);
	if (ret)
		return ret;
	if (k->has_xcrs) {
		struct kvm_xcrs xcrs;

		memset(&xcrs, 0, sizeof(xcrs));
		xcrs.nr_xcrs = 1;
		xcrs.xcrs[0].xcr = 0;
		xcrs.xcrs[0].value = s->xcr0 ? s->xcr0 : 1;
		ret = VCPU_IOCTL(vcpu, KVM_SET_XCRS, &xcrs);
		if (ret)
			return ret;
	}
	if (k->has_xsave) {
		struct kvm_xsave *xs = calloc(1, sizeof(*xs));

		if (!xs)
			return -ENOMEM;
		/* What the neutral form does not carry (AVX...) stays as KVM has it. */
		ret = VCPU_IOCTL(vcpu, KVM_GET_XSAVE, xs);
		if (!ret) {
			kvm_xsave_from_fxsave(&s->fpu, xs);
			ret = VCPU_IOCTL(vcpu, KVM_SET_XSAVE, xs);
		}
		free(xs);
	} else {
		struct kvm_fpu fpu;

		kvm_fpu_from_fxsave(&s->fpu, &fpu);
		ret = VCPU_IOCTL(vcpu, KVM_SET_FPU, &fpu);
	}
	if (ret)
		return ret;
	memset(&lapic, 0, sizeof(lapic));
	kvm_lapic_from_state(s, &lapic);
	ret = VCPU_IOCTL(vcpu, KVM_SET_LAPIC, &lapic);
	if (ret)
		return ret;
	if (set_tsc) {
		ret = kvm_vcpu_set_tsc(kv, s->tsc);
		if (ret) {
			errno = -ret;
			log_err("vcpu", "vcpu%u: cannot set the TSC", vcpu->id);
			return ret;
		}
	}
	ret = vcpu_put_msrs(vcpu, s);
	if (ret)
		return ret;
	kvm_debugregs_from_state(s, &dbg);
	ret = VCPU_IOCTL(vcpu, KVM_SET_DEBUGREGS, &dbg);
	if (ret)
		return ret;
	memset(&mp, 0, sizeof(mp));
	mp.mp_state = mp_state;
	ret = VCPU_IOCTL(vcpu, KVM_SET_MP_STATE, &mp);
	if (ret)
		return ret;
	kvm_events_from_state(&s->events, s->rflags, &ev);
	ret = VCPU_IOCTL(vcpu, KVM_SET_VCPU_EVENTS, &ev);
	if (ret)
		return ret;
	if (set_tsc) {
		kv->tsc_restored = true;
		kv->restored_tsc = s->tsc;
		kv->restored_tsc_deadline = s->msr.tsc_deadline;
	}
	kv->got_tsc = 0;
	return 0;
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
	if (vcpu->id < kvm_of(vcpu->machine)->ncpus &&
	    kvm_of(vcpu->machine)->vcpus[vcpu->id] == kv)
		kvm_of(vcpu->machine)->vcpus[vcpu->id] = NULL;
	if (kv->run)
		munmap(kv->run, (size_t)kvm_of(vcpu->machine)->run_mmap_size);
	if (kv->fd >= 0)
		close(kv->fd);
	free(kv);
	vcpu->priv = NULL;
}
