// SPDX-License-Identifier: Apache-2.0
/*
 * The software CPU's backend (accel_soft_ops, backend.h): the glue
 * between the machine and osprey's software CPU (soft_cpu.h) with the
 * user-space interrupt controllers of irqchip/.
 *
 *   vCPUs      one struct soft_cpu per vCPU, run by the vCPU thread of
 *              vmm/vcpu.c through soft_vcpu_run(); its struct soft_env
 *              sends port I/O and MMIO to the machine's buses, CPUID to
 *              the vCPU's table, the LAPIC page, x2APIC/TSC-deadline MSRs
 *              to its LAPIC and the kvmclock MSRs to pvclock writers.
 *   platform   irqchip/irqchip.h: a LAPIC per vCPU, the IOAPIC (MMIO
 *              0xfec00000), the 8259 pair (ports 0x20, 0xa0, ELCR 0x4d0)
 *              and the 8254 PIT (0x40-0x43, 0x61), asked before the buses.
 *   lines      vm_irq_line(gsi): ISA lines 0-15 to the PIC and the
 *              IOAPIC, 16-23 to the IOAPIC (irqchip_set_irq). Something
 *              for a CPU (interrupt, NMI, INIT, SIPI) posts SOFT_EVENT_*
 *              and wakes a halted vCPU thread. The PIC reaches vCPU 0
 *              through LINT0 (virtual wire, set up as KVM does).
 *   time       one timer thread per machine sleeps until the next LAPIC
 *              or PIT deadline (CLOCK_MONOTONIC ns, the clock the soft
 *              CPU's TSC counts) and fires them.
 *   HLT        the vCPU thread waits on its condition variable until an
 *              interrupt, an IPI or a kick wakes it; application
 *              processors start in wait-for-SIPI the same way.
 *   DMA        guest_mem's write hook drops decoded code of pages that
 *              devices wrote (soft_code_invalidate).
 *   snapshots  vcpu_get/set_state carry all of struct x86_cpu_state (the
 *              LAPIC through lapic_save/lapic_restore); platform_save/load
 *              the PIC, IOAPIC, PIT and the guest clock, which a restore
 *              moves forward with the host's real time, TSCs and kvmclock
 *              with it; dirty_log/dirty_sync drop the CPUs' write TLB
 *              entries, the CPU marks pages as it writes (soft_cpu.h).
 *              Not carried: an ExtINT message (IOAPIC pin in ExtINT mode)
 *              not yet acknowledged; the PIC keeps its IRR bit, and the
 *              virtual-wire path (LINT0) asks again after restore.
 *
 * Guest code never blocks the host: every guest-physical access of the
 * glue goes through guest_mem_ptr() (pvclock writers included).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accel/soft/backend.h"
#include "accel/soft/soft_cpu.h"
#include "accel/soft/soft_debug.h"
#include "arch/x86/layout.h"
#include "arch/x86/regs.h"
#include "base/log.h"
#include "hw/vmm_metrics.h"
#include "irqchip/irqchip.h"
#include "irqchip/platform_state.h"
#include "irqchip/pvclock.h"

/* Old kvmclock MSRs (KVM_FEATURE_CLOCKSOURCE). */
#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_IA32_TSC 0x10
#define MSR_IA32_PLATFORM_ID 0x17
#define MSR_IA32_UCODE_REV 0x8b
#define MSR_IA32_MISC_ENABLE 0x1a0

/* A halted vCPU looks again this often even if nobody wakes it (ns). */
#define SOFT_HLT_MAX_WAIT_NS 1000000000ULL

struct soft_vm;

struct soft_vcpu {
	struct soft_vm *sv;
	struct accel_vcpu *vcpu;
	struct soft_cpu *cpu; /* NULL before create and after destroy */
	struct soft_env env;
	struct lapic *lapic; /* sv->ic.lapic[id] */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool wake;	  /* something for a halted / waiting vCPU */
	bool kicked;	  /* vcpu_kick: back to the vCPU loop */
	int sipi_vector;  /* a start-up IPI waiting (-1: none) */
	bool init_pending;	/* an INIT IPI for the CPU (lock) */
	bool init_in_flight;	/* INIT posted, not yet seen done (vCPU thread only) */
	uint64_t system_time_msr, wall_clock_msr;
	uint64_t got_tsc; /* the TSC the last vcpu_get_state returned */
	/* vcpu_set_state loaded a TSC (restore): platform_load moves it on from there. */
	bool tsc_restored;
	uint64_t restored_tsc;
	/* Statistics (this vCPU's thread only). */
	uint64_t pio, mmio, hlt;
};

struct soft_vm {
	struct accel_machine *m;
	unsigned ncpus;
	struct soft_vcpu *cpus;
	struct irqchip ic;
	bool chips_ready;
	/*
	 * The guest clock (kvmclock system time, what platform_save calls
	 * clock_ns) is mono_ns() - clock_base_ns, modulo 2^64: CLOCK_MONOTONIC
	 * when the machine was built, or moved by platform_load so that a
	 * restored clock continues where it was saved.
	 */
	uint64_t clock_base_ns;

	/* The timer thread. */
	pthread_t timer_thread;
	bool timer_started;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cond;
	bool timer_stop;
	bool timer_dirty; /* a deadline changed: compute the next one again */
};

static struct soft_vm *sv_of(const struct accel_machine *m)
{
	return m->priv;
}

static struct soft_vcpu *sc_of(const struct accel_vcpu *vcpu)
{
	return vcpu->priv;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t chip_now(void *opaque)
{
	(void)opaque;
	return mono_ns();
}

/* ---- waking vCPUs and the timer thread ---- */

/* Posts events to the CPU (if it exists) and wakes its thread. Any thread. */
static void soft_vcpu_wake(struct soft_vcpu *sc, unsigned events)
{
	pthread_mutex_lock(&sc->lock);
	if (sc->cpu && events)
		soft_cpu_post(sc->cpu, events);
	sc->wake = true;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
}

static void timer_poke(struct soft_vm *sv)
{
	pthread_mutex_lock(&sv->timer_lock);
	sv->timer_dirty = true;
	pthread_cond_signal(&sv->timer_cond);
	pthread_mutex_unlock(&sv->timer_lock);
}

static void *timer_thread(void *arg)
{
	struct soft_vm *sv = arg;

	pthread_setname_np(pthread_self(), "soft-timer");
	pthread_mutex_lock(&sv->timer_lock);
	while (!sv->timer_stop) {
		uint64_t now, next = UINT64_MAX;

		sv->timer_dirty = false;
		pthread_mutex_unlock(&sv->timer_lock);
		now = mono_ns();
		/* Fire what is due (callbacks run without our lock), then find the next. */
		irqchip_advance(&sv->ic, now);
		next = irqchip_next_event_ns(&sv->ic);
		pthread_mutex_lock(&sv->timer_lock);
		if (sv->timer_stop || sv->timer_dirty)
			continue;
		if (next == UINT64_MAX) {
			pthread_cond_wait(&sv->timer_cond, &sv->timer_lock);
		} else if (next > mono_ns()) {
			struct timespec ts = {
				.tv_sec = (time_t)(next / 1000000000ULL),
				.tv_nsec = (long)(next % 1000000000ULL),
			};

			pthread_cond_timedwait(&sv->timer_cond, &sv->timer_lock, &ts);
		}
	}
	pthread_mutex_unlock(&sv->timer_lock);
	return NULL;
}

/* ---- interrupt controllers ---- */

/* What the irqchip has for vCPU cpu (called with irqchip locks held: post and wake only). */
static void irqchip_cpu_event(void *opaque, unsigned cpu, enum lapic_event ev, uint8_t vector)
{
	struct soft_vm *sv = opaque;
	struct soft_vcpu *sc;

	if (cpu >= sv->ncpus)
		return;
	sc = &sv->cpus[cpu];
	switch (ev) {
	case LAPIC_EV_IRQ:
	case LAPIC_EV_EXTINT:
		soft_vcpu_wake(sc, SOFT_EVENT_IRQ);
		break;
	case LAPIC_EV_NMI:
		soft_vcpu_wake(sc, SOFT_EVENT_NMI);
		break;
	case LAPIC_EV_INIT:
		/*
		 * Handed over by the vCPU's own thread, before any SIPI: the
		 * CPU's INIT reset clears the SIPI vector, so the two must
		 * not reach it in one batch (a slow AP thread would start at
		 * vector 0).
		 */
		pthread_mutex_lock(&sc->lock);
		sc->init_pending = true;
		sc->sipi_vector = -1; /* a SIPI before the INIT is void */
		if (sc->cpu)
			soft_cpu_post(sc->cpu, SOFT_EVENT_KICK);
		sc->wake = true;
		pthread_cond_signal(&sc->cond);
		pthread_mutex_unlock(&sc->lock);
		break;
	case LAPIC_EV_SIPI:
		/* The vCPU's own thread hands the vector to the CPU (soft_vcpu_run). */
		pthread_mutex_lock(&sc->lock);
		sc->sipi_vector = vector;
		sc->wake = true;
		pthread_cond_signal(&sc->cond);
		pthread_mutex_unlock(&sc->lock);
		break;
	case LAPIC_EV_TIMER:
		timer_poke(sv);
		break;
	}
}

static int soft_irq_line(struct accel_machine *m, unsigned gsi, int level)
{
	struct soft_vm *sv = sv_of(m);

	if (!sv || !sv->chips_ready)
		return -ENODEV;
	if (gsi >= IOAPIC_NUM_PINS)
		return -EINVAL;
	irqchip_set_irq(&sv->ic, gsi, level != 0);
	return 0;
}

/* ---- the CPU's environment ---- */

static void env_pio(void *opaque, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct soft_vcpu *sc = opaque;

	sc->pio++;
	vmm_metrics_exit(VCPU_EXIT_IO, is_write);
	if (irqchip_pio(&sc->sv->ic, port, is_write, data, len)) {
		/* The PIT may have a new deadline. */
		if (is_write && ((port >= PIT_PORT_CH0 && port <= PIT_PORT_CMD) || port == PIT_PORT_61))
			timer_poke(sc->sv);
		return;
	}
	if (!bus_dispatch(sc->sv->m->pio, port, is_write, data, len))
		log_debug("pio", "vcpu%u: unclaimed %s port 0x%x size %u", sc->vcpu->id,
			  is_write ? "write to" : "read from", port, len);
}

static void env_mmio(void *opaque, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	struct soft_vcpu *sc = opaque;

	sc->mmio++;
	vmm_metrics_exit(VCPU_EXIT_MMIO, is_write);
	if (irqchip_mmio(&sc->sv->ic, sc->vcpu->id, gpa, is_write, data, len)) {
		/* A LAPIC timer register may have changed. */
		if (is_write)
			timer_poke(sc->sv);
		return;
	}
	if (!bus_dispatch(sc->sv->m->mmio, gpa, is_write, data, len))
		log_debug("mmio", "vcpu%u: unclaimed %s 0x%llx size %u", sc->vcpu->id,
			  is_write ? "write to" : "read from", (unsigned long long)gpa, len);
}

static void env_cpuid(void *opaque, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct soft_vcpu *sc = opaque;

	cpuid_lookup(sc->vcpu->cpuid, leaf, subleaf, out);
}

static void soft_vcpu_sync_tsc(struct soft_vcpu *sc);

/*
 * kvmclock: the guest reads mono_ns() - clock_base_ns at its TSC. flags:
 * PVCLOCK_TSC_STABLE_BIT, plus PVCLOCK_GUEST_STOPPED_BIT after a restore
 * (the guest clock jumped: Linux then pets its soft-lockup watchdogs).
 */
static void kvmclock_publish_flags(struct soft_vcpu *sc, uint8_t flags)
{
	uint64_t v = sc->system_time_msr, tsc, now;

	if (!(v & MSR_KVM_SYSTEM_TIME_ENABLE) || !sc->cpu)
		return;
	now = mono_ns();
	tsc = soft_cpu_tsc(sc->cpu);
	if (pvclock_write_time_info(sc->sv->m->mem, v & ~MSR_KVM_SYSTEM_TIME_ENABLE, tsc,
				    now - sc->sv->clock_base_ns, flags))
		log_debug("soft", "vcpu%u: kvmclock area 0x%llx is not RAM", sc->vcpu->id,
			  (unsigned long long)v);
}

static void kvmclock_publish(struct soft_vcpu *sc)
{
	kvmclock_publish_flags(sc, PVCLOCK_TSC_STABLE_BIT);
}

static bool env_rdmsr(void *opaque, uint32_t index, uint64_t *value)
{
	struct soft_vcpu *sc = opaque;
	struct x86_cpu_state *s = sc->cpu ? soft_cpu_state(sc->cpu) : NULL;

	switch (index) {
	case LAPIC_MSR_APIC_BASE:
	case LAPIC_MSR_TSC_DEADLINE:
		return lapic_msr_read(sc->lapic, index, value);
	case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_SYSTEM_TIME:
		*value = sc->system_time_msr;
		return true;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_WALL_CLOCK:
		*value = sc->wall_clock_msr;
		return true;
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_UCODE_REV:
		*value = 0;
		return true;
	case MSR_IA32_MISC_ENABLE:
		*value = s ? s->msr.misc_enable : 1;
		return true;
	default:
		if (index >= LAPIC_MSR_X2APIC_FIRST && index <= LAPIC_MSR_X2APIC_LAST)
			return lapic_msr_read(sc->lapic, index, value);
		return false;
	}
}

static bool env_wrmsr(void *opaque, uint32_t index, uint64_t value)
{
	struct soft_vcpu *sc = opaque;
	struct x86_cpu_state *s = sc->cpu ? soft_cpu_state(sc->cpu) : NULL;
	bool ok;

	switch (index) {
	case LAPIC_MSR_APIC_BASE:
		ok = lapic_msr_write(sc->lapic, index, value);
		if (ok && s)
			s->msr.apic_base = value;
		return ok;
	case LAPIC_MSR_TSC_DEADLINE:
		ok = lapic_msr_write(sc->lapic, index, value);
		if (ok && s)
			s->msr.tsc_deadline = value;
		timer_poke(sc->sv);
		return ok;
	case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_SYSTEM_TIME:
		sc->system_time_msr = value;
		if (s)
			s->msr.kvm_system_time = value;
		kvmclock_publish(sc);
		return true;
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_WALL_CLOCK:
		sc->wall_clock_msr = value;
		if (s)
			s->msr.kvm_wall_clock = value;
		/* The real time at which the guest's kvmclock read 0. */
		if (pvclock_write_wall_clock(sc->sv->m->mem, value,
					     real_ns() - (mono_ns() - sc->sv->clock_base_ns)))
			log_debug("soft", "vcpu%u: wall clock area 0x%llx is not RAM",
				  sc->vcpu->id, (unsigned long long)value);
		return true;
	case MSR_IA32_TSC:
		/* The core changed its TSC (review B4): the LAPIC's offset follows. */
		if (sc->cpu) {
			soft_vcpu_sync_tsc(sc);
			timer_poke(sc->sv);
		}
		return true;
	case MSR_IA32_UCODE_REV:
		return true; /* Linux writes 0 before reading the revision */
	case MSR_IA32_MISC_ENABLE:
		if (s)
			s->msr.misc_enable = value;
		return true;
	default:
		if (index >= LAPIC_MSR_X2APIC_FIRST && index <= LAPIC_MSR_X2APIC_LAST) {
			ok = lapic_msr_write(sc->lapic, index, value);
			/* The timer registers may have changed. */
			timer_poke(sc->sv);
			return ok;
		}
		return false;
	}
}

static int env_irq_ack(void *opaque)
{
	struct soft_vcpu *sc = opaque;

	return irqchip_irq_ack(&sc->sv->ic, sc->vcpu->id);
}

/* The CPU reports CR8 (the task priority class, 0-15). */
static void env_tpr_write(void *opaque, uint8_t tpr)
{
	struct soft_vcpu *sc = opaque;

	lapic_set_tpr(sc->lapic, (uint8_t)((tpr & 0xf) << 4));
}

static void soft_mem_written(void *opaque, gpa_t gpa, uint64_t len)
{
	(void)opaque;
	soft_code_invalidate(gpa, len);
}

/* ---- the machine ---- */

static void soft_vm_destroy(struct accel_machine *m)
{
	struct soft_vm *sv = sv_of(m);

	if (!sv)
		return;
	if (sv->timer_started) {
		pthread_mutex_lock(&sv->timer_lock);
		sv->timer_stop = true;
		pthread_cond_signal(&sv->timer_cond);
		pthread_mutex_unlock(&sv->timer_lock);
		pthread_join(sv->timer_thread, NULL);
	}
	m->mem->written = NULL;
	if (sv->chips_ready)
		irqchip_destroy(&sv->ic);
	for (unsigned i = 0; sv->cpus && i < sv->ncpus; i++) {
		pthread_cond_destroy(&sv->cpus[i].cond);
		pthread_mutex_destroy(&sv->cpus[i].lock);
	}
	pthread_cond_destroy(&sv->timer_cond);
	pthread_mutex_destroy(&sv->timer_lock);
	free(sv->cpus);
	free(sv);
	m->priv = NULL;
}

static int soft_vm_init(struct accel_machine *m)
{
	struct soft_vm *sv = calloc(1, sizeof(*sv));
	pthread_condattr_t ca;
	int ret;

	if (!sv)
		return -ENOMEM;
	m->priv = sv;
	sv->m = m;
	sv->ncpus = m->ncpus;
	sv->clock_base_ns = mono_ns();
	pthread_mutex_init(&sv->timer_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sv->timer_cond, &ca);
	sv->cpus = calloc(sv->ncpus, sizeof(*sv->cpus));
	if (!sv->cpus) {
		pthread_condattr_destroy(&ca);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < sv->ncpus; i++) {
		struct soft_vcpu *sc = &sv->cpus[i];

		sc->sv = sv;
		sc->sipi_vector = -1;
		pthread_mutex_init(&sc->lock, NULL);
		pthread_cond_init(&sc->cond, &ca);
	}
	pthread_condattr_destroy(&ca);
	{
		const struct irqchip_ops iops = {
			.opaque = sv,
			.now_ns = chip_now,
			.cpu_event = irqchip_cpu_event,
		};

		/* The soft CPU's table always advertises x2APIC. */
		ret = irqchip_init(&sv->ic, sv->ncpus, true, &iops);
		if (ret) {
			errno = -ret;
			log_err("soft", "cannot create the interrupt controllers");
			return ret;
		}
	}
	for (unsigned i = 0; i < sv->ncpus; i++)
		sv->cpus[i].lapic = &sv->ic.lapic[i];
	sv->chips_ready = true;
	m->mem->written = soft_mem_written;
	m->mem->written_opaque = sv;
	ret = -pthread_create(&sv->timer_thread, NULL, timer_thread, sv);
	if (ret) {
		errno = -ret;
		log_err("soft", "cannot start the timer thread");
		return ret;
	}
	sv->timer_started = true;
	return 0;
}

static int soft_cpuid(struct accel_machine *m, struct cpuid_table **out)
{
	(void)m;
	*out = cpuid_soft_table();
	return *out ? 0 : -ENOMEM;
}

static const char *soft_auto_template(void)
{
	return "soft";
}

/* ---- vCPUs ---- */

/*
 * Virtual-wire mode on the boot CPU, as KVM sets it up at reset (and a
 * BIOS would): LINT0 ExtINT and LINT1 NMI, unmasked, so the PIC reaches
 * the CPU before the guest programs its APIC. Written into the register
 * page directly: a software-disabled APIC would keep LVT writes masked.
 */
static void soft_lapic_virtual_wire(struct lapic *l)
{
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	struct lapic_snap snap;
	uint32_t lint0 = LAPIC_DM_EXTINT << APIC_DM_SHIFT, lint1 = LAPIC_DM_NMI << APIC_DM_SHIFT;

	if (!s)
		return;
	lapic_save(l, s, &snap);
	memcpy(&s->lapic[APIC_LVT_LINT0], &lint0, 4);
	memcpy(&s->lapic[APIC_LVT_LINT1], &lint1, 4);
	lapic_restore(l, s, &snap);
	free(s);
}

/* guest TSC = mono_ns() + offset, for the LAPIC's TSC-deadline mode. */
static void soft_vcpu_sync_tsc(struct soft_vcpu *sc)
{
	lapic_set_tsc_offset(sc->lapic, soft_cpu_tsc_offset(sc->cpu));
}

static int soft_vcpu_create(struct accel_vcpu *vcpu, const struct cpuid_table *cpuid)
{
	struct soft_vm *sv = sv_of(vcpu->machine);
	struct soft_vcpu *sc = &sv->cpus[vcpu->id];
	struct soft_cpu *cpu;
	struct x86_cpu_state *s;

	(void)cpuid; /* the vCPU's table is vcpu->cpuid (env_cpuid) */
	sc->vcpu = vcpu;
	sc->env = (struct soft_env){
		.mem = vcpu->machine->mem,
		.opaque = sc,
		.pio = env_pio,
		.mmio = env_mmio,
		.cpuid = env_cpuid,
		.rdmsr = env_rdmsr,
		.wrmsr = env_wrmsr,
		.irq_ack = env_irq_ack,
		.tpr_write = env_tpr_write,
	};
	cpu = soft_cpu_new(&sc->env, vcpu->id);
	if (!cpu) {
		log_errx("soft", "vcpu%u: cannot create the software CPU", vcpu->id);
		return -ENOMEM;
	}
	s = soft_cpu_state(cpu);
	s->apic_id = vcpu->id;
	/* One TSC for the machine: every vCPU counts from the machine's birth. */
	s->tsc = mono_ns() - sv->clock_base_ns;
	s->msr.apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | (vcpu->id == 0 ? LAPIC_BASE_BSP : 0);
	s->msr.misc_enable = 1;			     /* fast string operations */
	s->msr.mtrr_def_type = (1 << 11) | 6;	     /* MTRRs on, default write-back */
	s->msr.pat = 0x0007040600070406ULL;	     /* the power-on PAT */
	if (vcpu->id != 0)
		s->mp_state = X86_MP_WAIT_SIPI; /* application processors wait for INIT/SIPI */
	soft_cpu_state_changed(cpu);
	if (vcpu->id == 0)
		soft_lapic_virtual_wire(sc->lapic);
	pthread_mutex_lock(&sc->lock);
	sc->cpu = cpu;
	pthread_mutex_unlock(&sc->lock);
	vcpu->priv = sc;
	soft_vcpu_sync_tsc(sc);
	return 0;
}

/* The register dump of crash reports: KVM's layout, then the soft CPU's own. */
static void soft_vcpu_dump(struct accel_vcpu *vcpu)
{
	struct soft_vcpu *sc = sc_of(vcpu);
	const struct x86_cpu_state *s;

	if (!sc || !sc->cpu)
		return;
	s = soft_cpu_state(sc->cpu);
	fprintf(stderr,
		"osprey: vcpu%u registers:\n"
		"  rip 0x%016llx rsp 0x%016llx rflags 0x%08llx\n"
		"  rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx\n"
		"  rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx\n"
		"  cr0 0x%016llx cr2 0x%016llx cr3 0x%016llx cr4 0x%016llx\n"
		"  efer 0x%llx apic_base 0x%llx gdt 0x%llx/%u idt 0x%llx/%u\n",
		vcpu->id, (unsigned long long)s->rip, (unsigned long long)s->gpr[X86_RSP],
		(unsigned long long)s->rflags, (unsigned long long)s->gpr[X86_RAX],
		(unsigned long long)s->gpr[X86_RBX], (unsigned long long)s->gpr[X86_RCX],
		(unsigned long long)s->gpr[X86_RDX], (unsigned long long)s->gpr[X86_RSI],
		(unsigned long long)s->gpr[X86_RDI], (unsigned long long)s->gpr[X86_RBP],
		(unsigned long long)s->cr0, (unsigned long long)s->cr2, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->efer,
		(unsigned long long)s->msr.apic_base, (unsigned long long)s->gdt.base,
		s->gdt.limit, (unsigned long long)s->idt.base, s->idt.limit);
	soft_cpu_dump(sc->cpu, stderr);
}

/*
 * HLT or wait-for-SIPI: sleeps until an interrupt, an IPI or a kick
 * wakes the vCPU (or a second passed: the loop looks at its flags).
 */
static void soft_vcpu_wait(struct soft_vcpu *sc)
{
	struct timespec ts;
	uint64_t until = mono_ns() + SOFT_HLT_MAX_WAIT_NS;

	ts.tv_sec = (time_t)(until / 1000000000ULL);
	ts.tv_nsec = (long)(until % 1000000000ULL);
	pthread_mutex_lock(&sc->lock);
	while (!sc->wake && !sc->kicked) {
		if (pthread_cond_timedwait(&sc->cond, &sc->lock, &ts) == ETIMEDOUT)
			break;
	}
	sc->wake = false;
	sc->kicked = false;
	pthread_mutex_unlock(&sc->lock);
}

static enum accel_run soft_vcpu_run(struct accel_vcpu *vcpu)
{
	struct soft_vcpu *sc = sc_of(vcpu);
	enum soft_exit r;
	int sipi;

	/*
	 * INIT first, alone; a SIPI only once the CPU has taken the INIT
	 * (it then reports wait-for-SIPI).
	 */
	pthread_mutex_lock(&sc->lock);
	if (sc->init_pending) {
		sc->init_pending = false;
		sc->init_in_flight = true;
		soft_cpu_post(sc->cpu, SOFT_EVENT_INIT);
	}
	sipi = -1;
	if (!sc->init_in_flight) {
		sipi = sc->sipi_vector;
		sc->sipi_vector = -1;
	}
	pthread_mutex_unlock(&sc->lock);
	if (sipi >= 0) {
		soft_cpu_state(sc->cpu)->events.sipi_vector = (uint8_t)sipi;
		soft_cpu_post(sc->cpu, SOFT_EVENT_SIPI);
	}
	r = soft_cpu_run(sc->cpu);
	if (r == SOFT_EXIT_WAIT_SIPI || r == SOFT_EXIT_SHUTDOWN)
		sc->init_in_flight = false;
	switch (r) {
	case SOFT_EXIT_KICK:
		return ACCEL_RUN_AGAIN;
	case SOFT_EXIT_HLT:
		sc->hlt++;
		vmm_metrics_exit(VCPU_EXIT_HLT, 0);
		soft_vcpu_wait(sc);
		return ACCEL_RUN_AGAIN;
	case SOFT_EXIT_WAIT_SIPI:
		/* A SIPI that came while the INIT was being taken: no waiting. */
		pthread_mutex_lock(&sc->lock);
		if (sc->sipi_vector >= 0 || sc->init_pending)
			sc->wake = true;
		pthread_mutex_unlock(&sc->lock);
		soft_vcpu_wait(sc);
		return ACCEL_RUN_AGAIN;
	case SOFT_EXIT_SHUTDOWN:
		vmm_metrics_exit(VCPU_EXIT_SHUTDOWN, 0);
		log_errx("vcpu", "vcpu%u: guest triple fault (software CPU shutdown)", vcpu->id);
		soft_vcpu_dump(vcpu);
		return ACCEL_RUN_CRASH;
	}
	return ACCEL_RUN_ERROR;
}

static void soft_vcpu_kick(struct accel_vcpu *vcpu)
{
	struct soft_vcpu *sc = sc_of(vcpu);

	if (!sc)
		return;
	pthread_mutex_lock(&sc->lock);
	if (sc->cpu)
		soft_cpu_post(sc->cpu, SOFT_EVENT_KICK);
	sc->kicked = true;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
}

static void soft_vcpu_destroy(struct accel_vcpu *vcpu)
{
	struct soft_vcpu *sc = sc_of(vcpu);
	struct soft_cpu *cpu;

	if (!sc)
		return;
	pthread_mutex_lock(&sc->lock);
	cpu = sc->cpu;
	sc->cpu = NULL; /* late interrupts (device threads, timers) post nothing */
	pthread_mutex_unlock(&sc->lock);
	if (cpu)
		soft_cpu_free(cpu);
	vcpu->priv = NULL;
}

/*
 * The TPR the LAPIC page holds, as CR8 (the core keeps its own CR8 for
 * MOV from CR8; the page is authoritative, as on KVM).
 */
static uint64_t lapic_page_cr8(const struct x86_cpu_state *s)
{
	return s->lapic[APIC_TPR] >> 4;
}

/*
 * All of struct x86_cpu_state (accel.h). Settles what was posted to the
 * vCPU and not taken yet: an INIT/SIPI handed over by the irqchip, an
 * NMI (events.nmi_pending). Interrupts posted but not taken are IRR bits
 * of the LAPIC page; the LAPIC's timer is in the lapic_timer_* fields.
 */
static int soft_vcpu_get_state(struct accel_vcpu *vcpu, struct x86_cpu_state *s)
{
	struct soft_vcpu *sc = sc_of(vcpu);
	struct lapic_snap snap;
	int sipi = -1;

	if (!sc || !sc->cpu)
		return -ENODEV;
	/* What soft_vcpu_run would hand the CPU, in the same order. */
	pthread_mutex_lock(&sc->lock);
	if (sc->init_pending) {
		sc->init_pending = false;
		soft_cpu_post(sc->cpu, SOFT_EVENT_INIT);
	}
	sipi = sc->sipi_vector;
	sc->sipi_vector = -1;
	pthread_mutex_unlock(&sc->lock);
	if (sipi >= 0) {
		soft_cpu_state(sc->cpu)->events.sipi_vector = (uint8_t)sipi;
		soft_cpu_post(sc->cpu, SOFT_EVENT_SIPI);
	}
	soft_cpu_save_state(sc->cpu, s);
	sc->init_in_flight = false;
	lapic_save(sc->lapic, s, &snap);
	s->lapic_timer_remaining_ns = snap.timer_remaining_ns;
	s->lapic_timer_period_ns = snap.timer_period_ns;
	s->lapic_esr_pending = snap.esr_pending;
	s->lapic_lint_level = snap.lint_level;
	s->cr8 = lapic_page_cr8(s);
	s->msr.kvm_system_time = sc->system_time_msr;
	s->msr.kvm_wall_clock = sc->wall_clock_msr;
	sc->got_tsc = s->tsc;
	return 0;
}

/* What the software CPU cannot take (the stream reader checks more). */
static bool soft_state_ok(const struct x86_cpu_state *s)
{
	if (s->mp_state > X86_MP_STOPPED)
		return false;
	if (s->events.exception_pending && s->events.exception_vector >= 32)
		return false;
	for (unsigned i = 0; i < X86_NR_SREGS; i++) {
		const struct x86_segment *g = &s->seg[i];

		if (g->type > 15 || g->dpl > 3)
			return false;
	}
	/* Paging needs protection; long mode active needs paging and PAE. */
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		return false;
	if ((s->efer & X86_EFER_LMA) && (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE)))
		return false;
	return true;
}

/*
 * Loads all of struct x86_cpu_state (accel.h). The vCPU's TLB and decoded
 * code are dropped and its mode, CPL and paging caches derived again
 * (soft_cpu_load_state); the LAPIC takes the page, the timer (restarted
 * relative to now) and the TSC-deadline MSR; CR8 follows the page's TPR.
 * A state read by vcpu_get_state and written back with the same tsc (boot
 * setup) leaves the TSC running; any other tsc is loaded, and
 * platform_load then moves it on with the restored guest clock.
 */
static int soft_vcpu_set_state(struct accel_vcpu *vcpu, const struct x86_cpu_state *s)
{
	struct soft_vcpu *sc = sc_of(vcpu);
	struct lapic_snap snap;
	bool set_tsc;

	if (!sc || !sc->cpu)
		return -ENODEV;
	if (!soft_state_ok(s))
		return -EINVAL;
	set_tsc = s->tsc != sc->got_tsc;
	pthread_mutex_lock(&sc->lock);
	sc->init_pending = false;
	sc->sipi_vector = -1;
	sc->wake = true; /* a halted vCPU looks at its (new) LAPIC */
	pthread_mutex_unlock(&sc->lock);
	sc->init_in_flight = false;
	soft_cpu_load_state(sc->cpu, s, set_tsc);
	if (set_tsc) {
		sc->tsc_restored = true;
		sc->restored_tsc = s->tsc;
	}
	sc->got_tsc = 0;
	sc->system_time_msr = s->msr.kvm_system_time;
	sc->wall_clock_msr = s->msr.kvm_wall_clock;
	memset(&snap, 0, sizeof(snap));
	snap.timer_remaining_ns = s->lapic_timer_remaining_ns;
	snap.timer_period_ns = s->lapic_timer_period_ns;
	snap.esr_pending = s->lapic_esr_pending;
	snap.lint_level = s->lapic_lint_level;
	lapic_restore(sc->lapic, s, &snap);
	soft_cpu_state(sc->cpu)->cr8 = lapic_get_tpr(sc->lapic) >> 4;
	soft_vcpu_sync_tsc(sc);
	timer_poke(sc->sv);
	return 0;
}

/* ---- snapshots and migration (every vCPU parked or not started) ---- */

/*
 * The PIC pair, IOAPIC and PIT (their own snapshot forms), the guest
 * clock (kvmclock system time: the clock the soft TSCs count with) and
 * the host's CLOCK_REALTIME at the same moment.
 */
static int soft_platform_save(struct accel_machine *m, struct x86_platform_state *s)
{
	struct soft_vm *sv = sv_of(m);

	if (!sv || !sv->chips_ready)
		return -ENODEV;
	memset(s, 0, sizeof(*s));
	pic_save(&sv->ic.pic, &s->pic);
	ioapic_save(&sv->ic.ioapic, &s->ioapic);
	pit_save(&sv->ic.pit, &s->pit);
	s->clock_ns = mono_ns() - sv->clock_base_ns;
	s->host_realtime_ns = real_ns();
	return 0;
}

/* The guest clock never exceeds this (~146 years), so sums below cannot wrap. */
#define SOFT_CLOCK_MAX (1ULL << 62)

/*
 * The reverse, after vcpu_set_state of every vCPU. The guest clock goes
 * on from s->clock_ns plus the host real time passed since
 * s->host_realtime_ns (never backward): the guest's time jumps forward
 * with the host's. Each vCPU's TSC moves by the same amount from the TSC
 * vcpu_set_state loaded (a vCPU that loaded none keeps its distance to
 * the clock), so TSCs and kvmclock stay one clock, and the LAPICs'
 * TSC-deadline offsets follow. kvmclock areas are written again; LAPIC
 * timers (restored by vcpu_set_state) and PIT counts run relative to now.
 */
static int soft_platform_load(struct accel_machine *m, const struct x86_platform_state *s)
{
	struct soft_vm *sv = sv_of(m);
	uint64_t now_real, delta, clock, old_clock, mono;

	if (!sv || !sv->chips_ready)
		return -ENODEV;
	if (s->clock_ns > SOFT_CLOCK_MAX)
		return -EINVAL;
	now_real = real_ns();
	delta = now_real > s->host_realtime_ns ? now_real - s->host_realtime_ns : 0;
	if (delta > SOFT_CLOCK_MAX - s->clock_ns)
		delta = SOFT_CLOCK_MAX - s->clock_ns;
	clock = s->clock_ns + delta;
	mono = mono_ns();
	old_clock = mono - sv->clock_base_ns;
	/* Modulo 2^64 when the saved clock is ahead of this host's CLOCK_MONOTONIC. */
	sv->clock_base_ns = mono - clock;
	for (unsigned i = 0; i < sv->ncpus; i++) {
		struct soft_vcpu *sc = &sv->cpus[i];

		if (!sc->cpu)
			continue;
		if (sc->tsc_restored)
			soft_cpu_set_tsc(sc->cpu, sc->restored_tsc + delta);
		else
			soft_cpu_set_tsc(sc->cpu, soft_cpu_tsc(sc->cpu) + (clock - old_clock));
		sc->tsc_restored = false;
		sc->got_tsc = 0;
		soft_vcpu_sync_tsc(sc);
	}
	pic_restore(&sv->ic.pic, &s->pic);
	ioapic_restore(&sv->ic.ioapic, &s->ioapic);
	pit_restore(&sv->ic.pit, &s->pit);
	for (unsigned i = 0; i < sv->ncpus; i++)
		kvmclock_publish_flags(&sv->cpus[i], PVCLOCK_TSC_STABLE_BIT | PVCLOCK_GUEST_STOPPED_BIT);
	timer_poke(sv);
	return 0;
}

/*
 * Dirty logging (accel.h): guest_mem_mark_dirty happens in the CPU while
 * m->mem->dirty is set (every write translation, physical write and
 * page-table A/D update, soft_cpu.h); arming and syncing drop the write
 * TLB entries of every vCPU so that the next write to each page marks it
 * again. The vCPUs must be parked (the contract): -EBUSY otherwise.
 */
static int soft_drop_write_tlbs(struct accel_machine *m)
{
	struct soft_vm *sv = sv_of(m);
	int ret = 0;

	if (!sv)
		return -ENODEV;
	for (unsigned i = 0; i < sv->ncpus; i++) {
		struct soft_vcpu *sc = &sv->cpus[i];

		if (sc->cpu && soft_cpu_drop_write_tlb(sc->cpu)) {
			log_errx("soft", "vcpu%u: dirty log change while the vCPU runs", i);
			ret = -EBUSY;
		}
	}
	return ret;
}

static int soft_dirty_log(struct accel_machine *m, bool enable)
{
	if (!enable)
		return 0; /* nothing marks once guest_mem_dirty_stop cleared the bitmap */
	return soft_drop_write_tlbs(m);
}

static int soft_dirty_sync(struct accel_machine *m)
{
	return soft_drop_write_tlbs(m);
}

static void soft_vcpu_log_stats(const struct accel_vcpu *vcpu)
{
	const struct soft_vcpu *sc = sc_of(vcpu);
	struct soft_cpu_stats st;

	if (!sc || !sc->cpu || log_get_level() < LOG_LEVEL_INFO)
		return;
	soft_cpu_get_stats(sc->cpu, &st);
	log_info("vcpu",
		 "vcpu%u: %llu instructions, %llu blocks decoded, %llu code invalidations, "
		 "%llu interrupts, %llu exceptions; io %llu mmio %llu hlt %llu; rip 0x%llx mp_state %u",
		 vcpu->id, (unsigned long long)st.insns, (unsigned long long)st.blocks_decoded,
		 (unsigned long long)st.code_invalidations, (unsigned long long)st.interrupts,
		 (unsigned long long)st.exceptions, (unsigned long long)sc->pio,
		 (unsigned long long)sc->mmio, (unsigned long long)sc->hlt,
		 (unsigned long long)soft_cpu_state(sc->cpu)->rip, soft_cpu_state(sc->cpu)->mp_state);
}

static int soft_no_irqfd(struct accel_machine *m, unsigned gsi, int fd)
{
	(void)m;
	(void)gsi;
	(void)fd;
	return -ENOTSUP;
}

static int soft_no_notify_fd(struct accel_machine *m, uint64_t addr, uint32_t datamatch, int fd)
{
	(void)m;
	(void)addr;
	(void)datamatch;
	(void)fd;
	return -ENOTSUP;
}

const struct accel_ops accel_soft_ops = {
	.name = "soft",
	.vm_init = soft_vm_init,
	.vm_destroy = soft_vm_destroy,
	.cpuid = soft_cpuid,
	.auto_template = soft_auto_template,
	.vcpu_create = soft_vcpu_create,
	.vcpu_run = soft_vcpu_run,
	.vcpu_kick = soft_vcpu_kick,
	.vcpu_destroy = soft_vcpu_destroy,
	.vcpu_get_state = soft_vcpu_get_state,
	.vcpu_set_state = soft_vcpu_set_state,
	.vcpu_dump = soft_vcpu_dump,
	.vcpu_log_stats = soft_vcpu_log_stats,
	.irq_line = soft_irq_line,
	.irqfd = soft_no_irqfd,
	.notify_fd = soft_no_notify_fd,
	.platform_save = soft_platform_save,
	.platform_load = soft_platform_load,
	.dirty_log = soft_dirty_log,
	.dirty_sync = soft_dirty_sync,
};
