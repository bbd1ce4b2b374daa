// SPDX-License-Identifier: Apache-2.0
/*
 * vCPU threads, backend-neutral: one thread per vCPU calls the
 * accelerator's vcpu_run() (accel/accel.h) in a loop, parking at the
 * pause point between calls, and turns how a run ends into the machine's
 * exit status. The boot vCPU's entry state is built here in the neutral
 * struct x86_cpu_state and handed to the backend.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/regs.h"
#include "base/log.h"
#include "vmm/vm.h"

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned id, const struct cpuid_table *base)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->acc.machine = &vm->machine;
	vcpu->acc.id = id;
	vcpu->acc.cpuid = cpuid_dup(base);
	if (!vcpu->acc.cpuid) {
		log_errx("vcpu", "vcpu%u: out of memory for the CPUID table", id);
		return -ENOMEM;
	}
	cpuid_set_topology(vcpu->acc.cpuid, id, vm->ncpus);
	return vm->accel->vcpu_create(&vcpu->acc, vcpu->acc.cpuid);
}

int vcpu_setup_boot(struct vcpu *vcpu, enum x86_entry_mode mode, uint64_t entry,
		    uint64_t param)
{
	const struct accel_ops *ops = vcpu->vm->accel;
	struct x86_cpu_state *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = ops->vcpu_get_state(&vcpu->acc, s);
	if (!ret) {
		x86_boot_sregs(s, mode);
		x86_boot_regs(s, mode, entry, param);
		ret = ops->vcpu_set_state(&vcpu->acc, s);
	}
	if (ret) {
		errno = -ret;
		log_err("vcpu", "vcpu%u: cannot set the boot CPU state", vcpu->acc.id);
	}
	free(s);
	return ret;
}

void vcpu_dump_registers(struct vcpu *vcpu)
{
	vcpu->vm->accel->vcpu_dump(&vcpu->acc);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	const struct accel_ops *ops = vm->accel;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", vcpu->acc.id);
	pthread_setname_np(pthread_self(), name);
	/* Not before vcpu_start marked the thread started (see there). */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE)) {
		enum accel_run r;

		vcpu_pause_point(vcpu);
		if (__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
			break;
		r = ops->vcpu_run(&vcpu->acc);
		if (r == ACCEL_RUN_AGAIN)
			continue;
		vm_request_exit(vm, r == ACCEL_RUN_POWEROFF ? VM_EXIT_POWEROFF :
				    r == ACCEL_RUN_REBOOT   ? VM_EXIT_REBOOT :
				    r == ACCEL_RUN_CRASH    ? VM_EXIT_CRASH :
							      VM_EXIT_ERROR);
		break;
	}
	vcpu_thread_exited(vcpu);
	return NULL;
}

void vcpu_log_exit_stats(const struct vcpu *vcpu)
{
	if (vcpu->vm->accel->vcpu_log_stats)
		vcpu->vm->accel->vcpu_log_stats(&vcpu->acc);
}

/*
 * thread_started is set under pause_lock before the thread may reach its
 * first pause point: a vm_pause() that saw it false (and so kicked no
 * one) set pause_requested before, and the thread sees that flag; one
 * that saw it true kicks. Without this a pause between pthread_create
 * and the flag was lost and the vCPU ran on.
 */
int vcpu_start(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int ret;

	pthread_mutex_lock(&vm->pause_lock);
	ret = pthread_create(&vcpu->acc.thread, NULL, vcpu_thread, vcpu);
	if (!ret)
		__atomic_store_n(&vcpu->acc.thread_started, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret) {
		errno = ret;
		log_err("vcpu", "cannot start the thread of vcpu%u", vcpu->acc.id);
		return -ret;
	}
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!__atomic_load_n(&vcpu->acc.thread_started, __ATOMIC_ACQUIRE))
		return;
	vcpu->vm->accel->vcpu_kick(&vcpu->acc);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->acc.thread_started) {
		pthread_join(vcpu->acc.thread, NULL);
		vcpu->acc.thread_started = false;
	}
	if (vcpu->vm && vcpu->vm->accel)
		vcpu->vm->accel->vcpu_destroy(&vcpu->acc);
	free(vcpu->acc.cpuid);
	vcpu->acc.cpuid = NULL;
}
