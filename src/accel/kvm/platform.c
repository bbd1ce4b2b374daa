// SPDX-License-Identifier: Apache-2.0
/*
 * The KVM backend's platform state for snapshots and migration (accel
 * ops platform_save/platform_load): the in-kernel PIC pair and IOAPIC
 * (KVM_GET/SET_IRQCHIP), the PIT (KVM_GET/SET_PIT2), the guest clock
 * (KVM_GET/SET_CLOCK) and every vCPU's TSC, in the neutral form of
 * irqchip/platform_state.h (conversions in state.c).
 *
 * KVM capabilities: KVM_CAP_IRQCHIP, KVM_CAP_PIT_STATE2, KVM_CAP_ADJUST_CLOCK,
 * KVM_CAP_MP_STATE, KVM_CAP_VCPU_EVENTS and KVM_CAP_DEBUGREGS are required
 * when the VM is created (kvm.c: "this host's KVM lacks ..."); KVM_CAP_XSAVE
 * and KVM_CAP_XCRS are optional (without them KVM_GET/SET_FPU carries the
 * FPU and an XCR0 other than x87 fails with a message); KVM_CAP_GET_TSC_KHZ
 * is needed by platform_load to move the TSCs (clear error without it).
 *
 * Clock and TSC on load: the guest clock (kvmclock) is set to the saved
 * clock_ns plus the host CLOCK_REALTIME passed since host_realtime_ns
 * (never backward: 0 when the host's clock is behind). Each vCPU whose
 * TSC vcpu_set_state loaded gets that TSC plus the same time in ticks of
 * its TSC frequency (KVM_GET_TSC_KHZ), set by moving the vCPU's TSC offset
 * (KVM_VCPU_TSC_OFFSET, Linux 5.16+; MSR_IA32_TSC on older kernels, whose
 * synchronization of writes within a second keeps the vCPUs in step):
 * Linux 6.18 was seen to accept a host-initiated MSR_IA32_TSC write and
 * leave the TSC as it was. A vCPU that loaded no TSC moves
 * by the clock's jump instead (as the software backend does). The
 * TSC-deadline MSR is written again after its TSC so that KVM arms it
 * against the new TSC. KVM refreshes every kvmclock page on the next
 * entry (KVM_SET_CLOCK and TSC writes request it).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "accel/kvm/kvm.h"
#include "accel/kvm/state.h"
#include "base/log.h"
#include "irqchip/platform_state.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0

static struct kvm_vm *kvm_of(const struct accel_machine *m)
{
	return m->priv;
}

static uint64_t clock_now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int vm_ioctl(struct kvm_vm *k, unsigned long req, void *arg, const char *name)
{
	if (ioctl(k->vm_fd, req, arg) < 0) {
		int ret = -errno;

		log_err("kvm", "%s", name);
		return ret;
	}
	return 0;
}

#define VM_IOCTL(k, req, arg) vm_ioctl(k, req, arg, #req)

static int get_chip(struct kvm_vm *k, uint32_t id, struct kvm_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	return VM_IOCTL(k, KVM_GET_IRQCHIP, c);
}

int kvm_platform_save(struct accel_machine *m, struct x86_platform_state *s)
{
	struct kvm_vm *k = kvm_of(m);
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	uint64_t mono;
	int ret;

	if (!k || k->vm_fd < 0)
		return -ENODEV;
	memset(s, 0, sizeof(*s));
	ret = get_chip(k, KVM_IRQCHIP_PIC_MASTER, &chip);
	if (ret)
		return ret;
	kvm_pic_to_snap(&chip.chip.pic, &s->pic.chip[0]);
	ret = get_chip(k, KVM_IRQCHIP_PIC_SLAVE, &chip);
	if (ret)
		return ret;
	kvm_pic_to_snap(&chip.chip.pic, &s->pic.chip[1]);
	ret = get_chip(k, KVM_IRQCHIP_IOAPIC, &chip);
	if (ret)
		return ret;
	kvm_ioapic_to_snap(&chip.chip.ioapic, &s->ioapic);
	memset(&pit, 0, sizeof(pit));
	ret = VM_IOCTL(k, KVM_GET_PIT2, &pit);
	if (ret)
		return ret;
	/* KVM's count_load_time is ktime_get(): CLOCK_MONOTONIC. */
	mono = clock_now(CLOCK_MONOTONIC);
	kvm_pit_to_snap(&pit, mono, &s->pit);
	memset(&clock, 0, sizeof(clock));
	ret = VM_IOCTL(k, KVM_GET_CLOCK, &clock);
	if (ret)
		return ret;
	s->clock_ns = clock.clock;
	/* Linux 5.16+ reads the host's real time at the same instant. */
	s->host_realtime_ns = (clock.flags & KVM_CLOCK_REALTIME) ? clock.realtime :
								  clock_now(CLOCK_REALTIME);
	return 0;
}

/* Moves one vCPU's TSC on (see the top of the file). */
static int move_tsc(struct kvm_vcpu *kv, unsigned id, uint64_t delta_ns, uint64_t jump_ns)
{
	uint64_t tsc, ticks;
	int khz, ret;

	khz = ioctl(kv->fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		log_err("kvm", "vcpu%u: KVM_GET_TSC_KHZ", id);
		return -ENOTSUP;
	}
	if (kv->tsc_restored) {
		ticks = kvm_ns_to_tsc(delta_ns, (uint32_t)khz);
		tsc = kv->restored_tsc + ticks;
	} else {
		ret = kvm_vcpu_read_msr(kv, MSR_IA32_TSC, &tsc);
		if (ret)
			return ret;
		tsc += kvm_ns_to_tsc(jump_ns, (uint32_t)khz);
	}
	ret = kvm_vcpu_set_tsc(kv, tsc);
	if (ret) {
		errno = -ret;
		log_err("kvm", "vcpu%u: cannot move the TSC on", id);
		return ret;
	}
	if (kv->tsc_restored && kv->restored_tsc_deadline) {
		ret = kvm_vcpu_write_msr(kv, MSR_IA32_TSC_DEADLINE, kv->restored_tsc_deadline);
		if (ret) {
			errno = -ret;
			log_warn("kvm", "vcpu%u: cannot re-arm the TSC deadline", id);
		}
	}
	kv->tsc_restored = false;
	kv->got_tsc = 0;
	return 0;
}

int kvm_platform_load(struct accel_machine *m, const struct x86_platform_state *s)
{
	struct kvm_vm *k = kvm_of(m);
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock, old;
	uint64_t delta, target, jump;
	int ret;

	if (!k || k->vm_fd < 0)
		return -ENODEV;
	if (!k->has_tsc_khz) {
		log_errx("kvm", "this host's KVM lacks KVM_CAP_GET_TSC_KHZ: cannot move the "
				"guest's TSCs on");
		return -ENOTSUP;
	}
	for (unsigned i = 0; i < 2; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i ? KVM_IRQCHIP_PIC_SLAVE : KVM_IRQCHIP_PIC_MASTER;
		kvm_pic_from_snap(&s->pic.chip[i], i == 1, &chip.chip.pic);
		ret = VM_IOCTL(k, KVM_SET_IRQCHIP, &chip);
		if (ret)
			return ret;
	}
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	kvm_ioapic_from_snap(&s->ioapic, &chip.chip.ioapic);
	ret = VM_IOCTL(k, KVM_SET_IRQCHIP, &chip);
	if (ret)
		return ret;
	kvm_pit_from_snap(&s->pit, clock_now(CLOCK_MONOTONIC), &pit);
	ret = VM_IOCTL(k, KVM_SET_PIT2, &pit);
	if (ret)
		return ret;

	memset(&old, 0, sizeof(old));
	ret = VM_IOCTL(k, KVM_GET_CLOCK, &old);
	if (ret)
		return ret;
	target = kvm_clock_target(s->clock_ns, s->host_realtime_ns, clock_now(CLOCK_REALTIME),
				  &delta);
	memset(&clock, 0, sizeof(clock));
	clock.clock = target;
	ret = VM_IOCTL(k, KVM_SET_CLOCK, &clock);
	if (ret)
		return ret;
	jump = target > old.clock ? target - old.clock : 0;
	for (unsigned i = 0; i < k->ncpus; i++) {
		if (!k->vcpus[i])
			continue;
		ret = move_tsc(k->vcpus[i], i, delta, jump);
		if (ret)
			return ret;
	}
	return 0;
}
