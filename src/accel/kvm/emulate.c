// SPDX-License-Identifier: Apache-2.0
/*
 * Completing for KVM the few guest instructions its instruction emulator
 * cannot execute (arch/x86/emulate.h classifies them): int3 injects #BP
 * after the instruction, fwait raises #MF when an unmasked x87 exception
 * is pending and otherwise does nothing.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm.h"

#define X87_FSW_ES 0x0080 /* error summary: an unmasked exception is pending */

static int inject_exception(int fd, unsigned vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = (uint8_t)vector;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	ev.flags = 0;
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	return 0;
}

static int skip_insn(int fd, unsigned len)
{
	struct kvm_regs regs;

	if (ioctl(fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	regs.rip += len;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int kvm_emulate_complete(int vcpu_fd, enum x86_emulated what)
{
	struct kvm_fpu fpu;
	int ret;

	switch (what) {
	case X86_EMULATED_INT3:
		/* A trap: the handler sees RIP after the int3 byte. */
		ret = skip_insn(vcpu_fd, 1);
		return ret ? ret : inject_exception(vcpu_fd, X86_VEC_BP);
	case X86_EMULATED_FWAIT:
		if (ioctl(vcpu_fd, KVM_GET_FPU, &fpu) < 0)
			return -errno;
		if (fpu.fsw & X87_FSW_ES)
			return inject_exception(vcpu_fd, X86_VEC_MF); /* a fault: RIP stays */
		return skip_insn(vcpu_fd, 1);
	case X86_EMULATED_NONE:
		break;
	}
	return -ENOTSUP;
}
