// SPDX-License-Identifier: Apache-2.0
/*
 * The KVM backend, machine side: /dev/kvm, the VM with its in-kernel
 * irqchip and PIT, memory slots, supported CPUID, interrupt lines,
 * irqfds and ioeventfds. The vCPU side is in vcpu.c; snapshots and
 * migration in platform.c (irqchip, PIT, clock, TSCs; the capabilities
 * they need are listed there), dirty.c (dirty log) and state.c (the
 * conversions to and from the neutral state).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "accel/kvm/kvm.h"
#include "arch/x86/cpu_template.h"
#include "arch/x86/layout.h"
#include "base/log.h"
#include "base/util.h"
#include "hw/memory.h"

#define KVM_DEVICE "/dev/kvm"

static struct kvm_vm *kvm_of(const struct accel_machine *m)
{
	return m->priv;
}

bool accel_kvm_available(void)
{
	int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int kvm_open(struct accel_machine *m)
{
	struct kvm_vm *k = kvm_of(m);
	int version;

	k->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (k->kvm_fd < 0) {
		int err = -errno;

		if (errno == ENOENT)
			log_errx("kvm", "cannot open " KVM_DEVICE
					": no such device (is the kvm module loaded and "
					"hardware virtualization enabled? --accel soft runs "
					"without it)");
		else if (errno == EACCES || errno == EPERM)
			log_errx("kvm", "cannot open " KVM_DEVICE
					": permission denied (run as root or join the kvm group)");
		else
			log_err("kvm", "cannot open " KVM_DEVICE);
		return err;
	}
	version = ioctl(k->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		log_errx("kvm", "unsupported KVM API version %d (need %d)", version, KVM_API_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

static int kvm_check_caps(struct accel_machine *m)
{
	static const struct {
		int cap;
		const char *name;
	} required[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		/* vCPU and platform state (vcpu_get/set_state, platform_save/load). */
		{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
		{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
		{ KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
		{ KVM_CAP_ADJUST_CLOCK, "KVM_CAP_ADJUST_CLOCK" },
		{ KVM_CAP_PIT_STATE2, "KVM_CAP_PIT_STATE2" },
	};
	struct kvm_vm *k = kvm_of(m);
	int max_vcpus;

	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		if (ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			log_errx("kvm", "this host's KVM lacks %s", required[i].name);
			return -ENOTSUP;
		}
	}
	max_vcpus = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = 4;
	if (m->ncpus > (unsigned)max_vcpus) {
		log_errx("kvm", "--cpus %u is above this host's KVM limit of %d vCPUs",
			 m->ncpus, max_vcpus);
		return -EINVAL;
	}
	/* Optional: hosts without XSAVE have neither (state.c falls back). */
	k->has_xsave = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	k->has_xcrs = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	k->has_tsc_khz = ioctl(k->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) > 0;
	k->run_mmap_size = ioctl(k->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_mmap_size <= 0) {
		log_err("kvm", "KVM_GET_VCPU_MMAP_SIZE");
		return -ENOTSUP;
	}
	return 0;
}

static int kvm_setup_vm(struct accel_machine *m)
{
	struct kvm_vm *k = kvm_of(m);
	struct kvm_pit_config pit = { .flags = 0 };
	const char *step;

	k->vm_fd = ioctl(k->kvm_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		step = "KVM_CREATE_VM";
		goto fail;
	}
	step = "KVM_SET_TSS_ADDR";
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS_ADDR) < 0)
		goto fail;
	step = "KVM_SET_IDENTITY_MAP_ADDR";
	{
		uint64_t addr = X86_KVM_IDENTITY_MAP_ADDR;

		if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			goto fail;
	}
	step = "KVM_CREATE_IRQCHIP";
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail;
	step = "KVM_CREATE_PIT2";
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto fail;
	return 0;
fail:
	log_err("kvm", "%s failed", step);
	return -errno;
}

/*
 * Slot i is region i of m->mem (mapping order, dirty.c relies on it).
 * Registering a slot again with other flags changes only its flags.
 */
int kvm_set_slots(struct accel_machine *m, bool log_dirty)
{
	struct kvm_vm *k = kvm_of(m);

	for (unsigned i = 0; i < m->mem->nregions; i++) {
		const struct guest_region *r = &m->mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
		};

		if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			int ret = -errno;

			log_err("memory", "KVM_SET_USER_MEMORY_REGION slot %u%s", i,
				log_dirty ? " with KVM_MEM_LOG_DIRTY_PAGES" : "");
			return ret;
		}
	}
	k->dirty_logging = log_dirty;
	return 0;
}

static int kvm_setup_memory(struct accel_machine *m)
{
	return kvm_set_slots(m, false);
}

static int kvm_vm_init(struct accel_machine *m)
{
	struct kvm_vm *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	k->kvm_fd = k->vm_fd = -1;
	m->priv = k;
	k->ncpus = m->ncpus;
	k->vcpus = calloc(m->ncpus ? m->ncpus : 1, sizeof(*k->vcpus));
	if (!k->vcpus)
		return -ENOMEM;
	ret = kvm_open(m);
	if (!ret)
		ret = kvm_check_caps(m);
	if (!ret)
		ret = kvm_setup_vm(m);
	if (!ret)
		ret = kvm_setup_memory(m);
	return ret;
}

static void kvm_vm_destroy(struct accel_machine *m)
{
	struct kvm_vm *k = kvm_of(m);

	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->kvm_fd >= 0)
		close(k->kvm_fd);
	free(k->vcpus);
	free(k);
	m->priv = NULL;
}

/* KVM_GET_SUPPORTED_CPUID into osprey's table. */
static int kvm_cpuid(struct accel_machine *m, struct cpuid_table **out)
{
	struct kvm_cpuid2 *kc = calloc(1, sizeof(*kc) + CPUID_MAX_ENTRIES * sizeof(kc->entries[0]));
	struct cpuid_table *c;
	int ret;

	if (!kc)
		return -ENOMEM;
	kc->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_of(m)->kvm_fd, KVM_GET_SUPPORTED_CPUID, kc) < 0) {
		ret = -errno;
		errno = -ret;
		log_err("cpuid", "KVM_GET_SUPPORTED_CPUID");
		free(kc);
		return ret;
	}
	c = cpuid_alloc(kc->nent);
	if (!c) {
		free(kc);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < kc->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &kc->entries[i];

		c->entries[i] = (struct cpuid_entry){
			.function = e->function,
			.index = e->index,
			.flags = (e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? CPUID_FLAG_INDEX : 0,
			.eax = e->eax,
			.ebx = e->ebx,
			.ecx = e->ecx,
			.edx = e->edx,
		};
	}
	free(kc);
	*out = c;
	return 0;
}

static const char *kvm_auto_template(void)
{
	return x86_host_kvm_is_emulated() ? "emulated" : "host";
}

static int kvm_irq_line(struct accel_machine *m, unsigned gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(kvm_of(m)->vm_fd, KVM_IRQ_LINE, &l) < 0) {
		log_warn("irq", "KVM_IRQ_LINE %u", gsi);
		return -errno;
	}
	return 0;
}

static int kvm_irqfd(struct accel_machine *m, unsigned gsi, int fd)
{
	struct kvm_irqfd irqfd = { .gsi = gsi, .fd = (uint32_t)fd };

	if (ioctl(kvm_of(m)->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		int ret = -errno;

		log_err("irq", "KVM_IRQFD for IRQ %u", gsi);
		return ret;
	}
	return 0;
}

static int kvm_notify_fd(struct accel_machine *m, uint64_t addr, uint32_t datamatch, int fd)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(kvm_of(m)->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

const struct accel_ops accel_kvm_ops = {
	.name = "kvm",
	.vm_init = kvm_vm_init,
	.vm_destroy = kvm_vm_destroy,
	.cpuid = kvm_cpuid,
	.auto_template = kvm_auto_template,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_kick = kvm_vcpu_kick,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_get_state = kvm_vcpu_get_state,
	.vcpu_set_state = kvm_vcpu_set_state,
	.vcpu_dump = kvm_vcpu_dump,
	.vcpu_log_stats = kvm_vcpu_log_stats,
	.irq_line = kvm_irq_line,
	.irqfd = kvm_irqfd,
	.notify_fd = kvm_notify_fd,
	.platform_save = kvm_platform_save,
	.platform_load = kvm_platform_load,
	.dirty_log = kvm_dirty_log,
	.dirty_sync = kvm_dirty_sync,
};
