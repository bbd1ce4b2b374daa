// SPDX-License-Identifier: Apache-2.0
/*
 * Pausing the guest (PATCH /vm): every vCPU thread leaves KVM_RUN and
 * parks on a condition variable until resumed. The I/O threads and the
 * event loop keep running (queued device work completes; the guest just
 * does not execute).
 */
#include <errno.h>

#include "vmm/vm.h"

static bool exit_requested(struct vm *vm)
{
	return __atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE);
}

int vm_pause(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (exit_requested(vm))
		ret = -ESRCH;
	else if (vm->pause_requested)
		ret = -EALREADY;
	else
		__atomic_store_n(&vm->pause_requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->pause_lock);
	if (ret)
		return ret;
	/*
	 * The flag is set before the kick: a vCPU about to enter KVM_RUN
	 * returns at once (immediate_exit) and sees it at the top of its loop.
	 * A vCPU whose thread has not started yet parks when it does.
	 */
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->vcpus_parked + vm->vcpus_exited < vm->ncpus && !exit_requested(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	if (exit_requested(vm))
		ret = -ESRCH;
	pthread_mutex_unlock(&vm->pause_lock);
	return ret;
}

int vm_resume(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->pause_lock);
	if (!vm->pause_requested) {
		ret = -EALREADY;
		goto out;
	}
	__atomic_store_n(&vm->pause_requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->vcpus_parked > 0 && !exit_requested(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	if (exit_requested(vm))
		ret = -ESRCH;
out:
	pthread_mutex_unlock(&vm->pause_lock);
	return ret;
}

void vcpu_pause_point(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	if (!__atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->pause_requested && !exit_requested(vm)) {
		vm->vcpus_parked++;
		pthread_cond_broadcast(&vm->pause_cond);
		while (vm->pause_requested && !exit_requested(vm))
			pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
		vm->vcpus_parked--;
		pthread_cond_broadcast(&vm->pause_cond);
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

void vcpu_thread_exited(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->vcpus_exited++;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}
