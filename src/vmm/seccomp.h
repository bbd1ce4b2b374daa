/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-thread seccomp filters of the VMM (docs/seccomp.md), on libseccomp.
 *
 * Every thread of osprey has a kind, and each kind an allow-list of
 * system calls, each with the reason it is there (vmm/seccomp.c). A
 * thread installs the filter of its kind at the start of its own
 * function (vmm_seccomp_enter). Filters are inherited by the threads
 * created after them and combine by intersection: a kind whose threads
 * create other threads (api -> vmm -> vcpu, api -> device-io) allows all
 * its descendants need before they narrow themselves.
 *
 * A forbidden system call kills the whole process (SIGSYS). Filters are
 * off in the library until the command line turns them on
 * (vmm_seccomp_configure), so unit tests and fuzzers never install any.
 */
#ifndef OSPREY_VMM_SECCOMP_H
#define OSPREY_VMM_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum vmm_seccomp_kind {
	VMM_SECCOMP_MAIN,      /* API mode's main thread, once the API runs */
	VMM_SECCOMP_API,       /* the API server thread (builds machines) */
	VMM_SECCOMP_VMM,       /* machine run loop; `osprey run`'s main thread */
	VMM_SECCOMP_VCPU,      /* one per vCPU */
	VMM_SECCOMP_DEVICE_IO, /* a virtio device's I/O thread */
	VMM_SECCOMP_TIMER,     /* the software CPU's timer thread */
	VMM_SECCOMP_METRICS,   /* the metrics writer */
	VMM_SECCOMP_NKINDS,
};

/* vmm_seccomp_enter flags: the vCPU runs on KVM (its ioctls are allowed). */
#define VMM_SECCOMP_F_KVM 1u

/* The self-test variable: OSPREY_SECCOMP_SELFTEST=<kind name>. */
#define VMM_SECCOMP_SELFTEST_ENV "OSPREY_SECCOMP_SELFTEST"
/* Debugging: OSPREY_SECCOMP_LOG=1 logs the forbidden call before the end. */
#define VMM_SECCOMP_LOG_ENV "OSPREY_SECCOMP_LOG"

/*
 * Called once by the command line on the main thread, before any other
 * thread exists. enabled: filters on (the default; --no-seccomp turns
 * them off). With filters on, checks that the kernel has seccomp filters
 * (-ENOSYS with a message in err when it has not) and sets no_new_privs.
 * Also reads the self-test variable (-EINVAL for an unknown kind).
 */
int vmm_seccomp_configure(bool enabled, char *err, size_t errlen);
bool vmm_seccomp_enabled(void);

/*
 * Installs the filter of kind on the calling thread (flags: VMM_SECCOMP_F_*);
 * nothing when filters are off. A filter that cannot be installed is
 * fatal (one error line, exit status 1): a thread never runs unfiltered
 * when filters are on.
 */
void vmm_seccomp_enter(enum vmm_seccomp_kind kind, unsigned flags);

/* The tables, for the unit test and the documentation. */
enum vmm_seccomp_cond {
	SC_ANY,		 /* any arguments */
	SC_NO_EXEC,	 /* mmap/mprotect: PROT_EXEC clear in arg 2 */
	SC_IOCTL_TTY,	 /* ioctl: terminal modes and window size */
	SC_IOCTL_VCPU,	 /* ioctl: TUNSETOFFLOAD; with F_KVM also the vCPU ioctls */
	SC_TGKILL_ABORT, /* tgkill: this process, SIGABRT only */
	SC_TGKILL_KICK,	 /* tgkill: this process, SIGUSR1 (vCPU kick) or SIGABRT */
	SC_PRCTL_NAME,	 /* prctl: PR_SET_NAME only */
	SC_SOCKET_UNIX,	 /* socket: AF_UNIX only */
	SC_SECCOMP_LOAD, /* seccomp: SECCOMP_SET_MODE_FILTER (a child's filter) */
	SC_SIGACTION_GLIBC, /* rt_sigaction: glibc's internal signals 32 and 33 */
};

struct vmm_seccomp_rule {
	const char *syscall;
	enum vmm_seccomp_cond cond;
	const char *reason;
};

const char *vmm_seccomp_kind_name(enum vmm_seccomp_kind kind);
/* -1 for an unknown name. */
int vmm_seccomp_kind_from_name(const char *name);
const char *vmm_seccomp_cond_text(enum vmm_seccomp_cond cond);
/*
 * The rules of kind, in table order, sanitizer extras included when
 * this is a sanitizer build: calls fn for each. Returns the count.
 */
size_t vmm_seccomp_rules(enum vmm_seccomp_kind kind,
			 void (*fn)(const struct vmm_seccomp_rule *r, void *opaque), void *opaque);
/* Whether this build adds the sanitizer runtime's calls to every kind. */
bool vmm_seccomp_sanitizer_build(void);
/* The kind that creates threads of kind, for the inheritance check; -1: none. */
int vmm_seccomp_parent_kinds(enum vmm_seccomp_kind kind, enum vmm_seccomp_kind out[4]);
/*
 * Builds kind's filter without loading it: 0, or -errno with the
 * offending call in *bad (a name libseccomp does not know: -ENOENT).
 */
int vmm_seccomp_check(enum vmm_seccomp_kind kind, unsigned flags, const char **bad);
/* The Markdown tables of docs/seccomp.md (without the sanitizer extras). */
void vmm_seccomp_write_markdown(FILE *f);

#endif
