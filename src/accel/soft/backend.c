// SPDX-License-Identifier: Apache-2.0
/* The software CPU's backend (backend.h): not wired up yet. */
#include <errno.h>

#include "accel/soft/backend.h"
#include "base/log.h"
#include "vmm/vm.h"

static int soft_vm_init(struct vm *vm)
{
	(void)vm;
	log_errx("soft", "the software CPU is not available in this build");
	return -ENOTSUP;
}

static void soft_vm_destroy(struct vm *vm)
{
	(void)vm;
}

static int soft_cpuid(struct vm *vm, struct cpuid_table **out)
{
	(void)vm;
	*out = cpuid_soft_table();
	return *out ? 0 : -ENOMEM;
}

static const char *soft_auto_template(void)
{
	return "soft";
}

static int soft_vcpu_create(struct vcpu *vcpu, const struct cpuid_table *cpuid)
{
	(void)vcpu;
	(void)cpuid;
	return -ENOTSUP;
}

static enum accel_run soft_vcpu_run(struct vcpu *vcpu)
{
	(void)vcpu;
	return ACCEL_RUN_ERROR;
}

static void soft_vcpu_kick(struct vcpu *vcpu)
{
	(void)vcpu;
}

static void soft_vcpu_destroy(struct vcpu *vcpu)
{
	(void)vcpu;
}

static int soft_vcpu_get_state(struct vcpu *vcpu, struct x86_cpu_state *s)
{
	(void)vcpu;
	(void)s;
	return -ENOTSUP;
}

static int soft_vcpu_set_state(struct vcpu *vcpu, const struct x86_cpu_state *s)
{
	(void)vcpu;
	(void)s;
	return -ENOTSUP;
}

static void soft_vcpu_dump(struct vcpu *vcpu)
{
	(void)vcpu;
}

static int soft_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	(void)gsi;
	(void)level;
	return -ENOTSUP;
}

static int soft_no_fd(struct vm *vm, unsigned gsi, int fd)
{
	(void)vm;
	(void)gsi;
	(void)fd;
	return -ENOTSUP;
}

static int soft_no_notify(struct vm *vm, uint64_t addr, uint32_t datamatch, int fd)
{
	(void)vm;
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
	.irq_line = soft_irq_line,
	.irqfd = soft_no_fd,
	.notify_fd = soft_no_notify,
};
