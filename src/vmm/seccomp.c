// SPDX-License-Identifier: Apache-2.0
/*
 * Per-thread seccomp filters (vmm/seccomp.h, docs/seccomp.md): the
 * allow-list of every thread kind, each call with its reason, and their
 * installation through libseccomp. Default action: kill the process.
 *
 * The lists are built from groups. Kinds whose threads create threads
 * (api, run, vmm) also carry what a new thread does before its own filter
 * is in place (glibc's thread start, the thread name, loading a filter)
 * and everything their descendants' lists allow: filters intersect.
 */
#include "vmm/seccomp.h"

#include <errno.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#define R(name, cond, why) { name, cond, why }

/* ---- the groups ---- */

/* What every thread does: locks, memory, logging, its own end. */
static const struct vmm_seccomp_rule g_thread[] = {
	R("futex", SC_ANY, "mutexes, condition variables and thread joins (glibc)"),
	R("write", SC_ANY, "log lines (stderr or the log file) and eventfd signals"),
	R("mmap", SC_NO_EXEC, "malloc arenas and large allocations; never executable"),
	R("mprotect", SC_NO_EXEC, "malloc arena growth; never executable"),
	R("munmap", SC_ANY, "free() of large blocks and arena trimming"),
	R("mremap", SC_ANY, "realloc() of large blocks"),
	R("brk", SC_ANY, "malloc's main arena, which any thread may use"),
	R("madvise", SC_ANY, "free() trims arenas; glibc releases a finished thread's stack"),
	R("rt_sigprocmask", SC_ANY, "glibc blocks signals around a thread's exit and in abort()"),
	R("rt_sigreturn", SC_ANY, "return from a signal handler (the SIGUSR1 kick)"),
	R("rt_sigtimedwait", SC_ANY, "a write to a closed pipe or FIFO takes back its SIGPIPE"),
	R("restart_syscall", SC_ANY, "the kernel resumes a wait a signal interrupted"),
	R("clock_gettime", SC_ANY, "clocks the vDSO cannot answer alone"),
	R("getpid", SC_ANY, "abort() and raise() address this process"),
	R("gettid", SC_ANY, "abort() and raise() address this thread"),
	R("exit", SC_ANY, "the thread's end"),
	R("exit_group", SC_ANY, "the process's end (exit status, fatal errors)"),
};

/* Narrow kinds: abort() only. */
static const struct vmm_seccomp_rule g_abort[] = {
	R("tgkill", SC_TGKILL_ABORT, "abort() on a failed assertion: SIGABRT to this thread"),
};

/* A kind that creates threads: what a new thread does before its own filter. */
static const struct vmm_seccomp_rule g_spawn[] = {
	R("clone3", SC_ANY, "pthread_create (vCPU, device I/O, timer, VMM threads)"),
	R("clone", SC_ANY, "pthread_create where clone3 is missing"),
	R("rseq", SC_ANY, "a new thread registers its restartable sequences (glibc)"),
	R("set_robust_list", SC_ANY, "a new thread registers its robust futex list (glibc)"),
	R("prctl", SC_PRCTL_NAME, "a new thread names itself (vcpu0, io-virtio-blk, ...)"),
	R("seccomp", SC_SECCOMP_LOAD, "a new thread installs its own, narrower filter"),
	R("rt_sigaction", SC_SIGACTION_GLIBC,
	  "glibc installs its thread-cancel and set-id handlers at the first pthread_create"),
	R("tgkill", SC_TGKILL_KICK, "SIGUSR1 kicks a vCPU out of KVM_RUN; abort()"),
};

/* A machine's run loop (vm_run) and what its vCPU threads need. */
static const struct vmm_seccomp_rule g_runloop[] = {
	R("epoll_wait", SC_ANY, "the machine's event loop"),
	R("epoll_ctl", SC_ANY, "event loop registrations (console, devices on activation)"),
	R("read", SC_ANY, "console input, the signalfd, eventfds"),
	R("close", SC_ANY, "signalfd and descriptors of reset devices"),
	R("signalfd4", SC_ANY, "SIGINT/SIGTERM/SIGHUP arrive on a signalfd"),
	R("eventfd2", SC_ANY, "wake-up eventfds"),
	R("ioctl", SC_ANY, "console terminal modes; the vCPU threads' ioctls (KVM, tap)"),
	R("timerfd_settime", SC_ANY, "rate-limiter timers, re-armed when the guest resets a device"),
	R("shutdown", SC_ANY, "vsock: a reset device closes its host connections"),
	R("poll", SC_ANY, "waits on single descriptors"),
	R("ppoll", SC_ANY, "waits on single descriptors"),
};

/* Building machines, snapshots, restore and migration (api and run). */
static const struct vmm_seccomp_rule g_machine[] = {
	R("openat", SC_ANY, "kernel, initrd, disk images, snapshot and memory files"),
	R("open", SC_ANY, "the same where a library uses open"),
	R("pread64", SC_ANY, "loading kernel and initrd; reading snapshot files"),
	R("pwrite64", SC_ANY, "writing snapshot files"),
	R("preadv", SC_ANY, "disk I/O of the device threads created here; snapshot files"),
	R("pwritev", SC_ANY, "disk I/O of the device threads created here; snapshot files"),
	R("readv", SC_ANY, "scatter reads (stream records)"),
	R("writev", SC_ANY, "scatter writes (stream records, HTTP responses)"),
	R("lseek", SC_ANY, "image sizes; snapshot files"),
	R("newfstatat", SC_ANY, "file type and size checks (fstat)"),
	R("fstat", SC_ANY, "file type and size checks"),
	R("statx", SC_ANY, "file type and size checks"),
	R("access", SC_ANY, "readable kernel, initrd and drive checks"),
	R("faccessat", SC_ANY, "readable kernel, initrd and drive checks"),
	R("faccessat2", SC_ANY, "readable kernel, initrd and drive checks"),
	R("readlink", SC_ANY, "path resolution (realpath)"),
	R("fcntl", SC_ANY, "descriptor flags (O_NONBLOCK, FD_CLOEXEC), file locks"),
	R("flock", SC_ANY, "disk image locks"),
	R("dup", SC_ANY, "descriptor copies"),
	R("dup3", SC_ANY, "descriptor copies"),
	R("pipe2", SC_ANY, "wake-up pipes"),
	R("ftruncate", SC_ANY, "sizing snapshot memory files"),
	R("fallocate", SC_ANY, "allocating snapshot memory files"),
	R("fsync", SC_ANY, "snapshot files reach the disk before they are renamed"),
	R("fdatasync", SC_ANY, "snapshot and disk flushes"),
	R("rename", SC_ANY, "snapshot files appear complete or not at all"),
	R("renameat", SC_ANY, "snapshot files appear complete or not at all"),
	R("renameat2", SC_ANY, "snapshot files appear complete or not at all"),
	R("unlink", SC_ANY, "stale socket files; partial snapshot files"),
	R("unlinkat", SC_ANY, "stale socket files; partial snapshot files"),
	R("link", SC_ANY, "the replaced snapshot memory file kept as .NAME.prev until its state file is in place"),
	R("linkat", SC_ANY, "the replaced snapshot memory file kept as .NAME.prev until its state file is in place"),
	R("mkdir", SC_ANY, "snapshot directories"),
	R("mkdirat", SC_ANY, "snapshot directories"),
	R("getdents64", SC_ANY, "snapshot directories"),
	R("memfd_create", SC_ANY, "guest RAM backed by a memory file"),
	R("timerfd_create", SC_ANY, "rate limiters and API timeouts"),
	R("timerfd_gettime", SC_ANY, "rate limiters"),
	R("epoll_create1", SC_ANY, "event loops of the machine and its devices"),
	R("sysinfo", SC_ANY, "host RAM for the machine-config check"),
	R("getrandom", SC_ANY, "hash seeds (jansson), random MACs and ids"),
	R("socket", SC_ANY, "vsock listeners; migration over Unix sockets or TCP"),
	R("socketpair", SC_ANY, "in-process channels"),
	R("bind", SC_ANY, "vsock listeners; migration destination"),
	R("listen", SC_ANY, "vsock listeners; migration destination"),
	R("accept4", SC_ANY, "API connections; migration destination"),
	R("connect", SC_ANY, "migration source; vsock host connections"),
	R("getsockname", SC_ANY, "bound addresses (migration, getaddrinfo)"),
	R("getpeername", SC_ANY, "peer addresses"),
	R("setsockopt", SC_ANY, "socket options (TCP_NODELAY, SO_REUSEADDR)"),
	R("getsockopt", SC_ANY, "connect completion (SO_ERROR)"),
	R("sendto", SC_ANY, "API responses; migration stream"),
	R("recvfrom", SC_ANY, "API requests; migration stream"),
	R("sendmsg", SC_ANY, "migration stream"),
	R("recvmsg", SC_ANY, "migration stream; getaddrinfo's netlink query"),
	R("sched_getaffinity", SC_ANY, "processor count (get_nprocs)"),
	R("msync", SC_ANY, "memory files written back before a snapshot completes"),
	R("fstatfs", SC_ANY, "the file system under snapshot and memory files"),
	R("fadvise64", SC_ANY, "sequential reads and writes of snapshot files"),
	R("sendfile", SC_ANY, "copying snapshot files"),
	R("copy_file_range", SC_ANY, "copying snapshot files"),
	R("fchmod", SC_ANY, "permissions of a migration socket file"),
	R("nanosleep", SC_ANY, "migration bandwidth limit: waits between rounds"),
	R("clock_nanosleep", SC_ANY, "migration bandwidth limit: waits between rounds"),
	R("uname", SC_ANY, "host name for getaddrinfo (migration over TCP)"),
};

/* The vCPU thread: device register writes run here too. */
static const struct vmm_seccomp_rule g_vcpu[] = {
	R("ioctl", SC_IOCTL_VCPU, "KVM_RUN and the vCPU state ioctls (KVM only); TUNSETOFFLOAD "
				  "when the guest activates virtio-net"),
	R("read", SC_ANY, "eventfds drained when the guest resets a device"),
	R("close", SC_ANY, "descriptors of a device the guest resets (vsock connections)"),
	R("epoll_ctl", SC_ANY, "a device the guest activates or resets updates its event loop"),
	R("timerfd_settime", SC_ANY, "a device reset re-arms its rate-limiter timers"),
	R("shutdown", SC_ANY, "vsock: a reset device closes its host connections"),
};

/* A virtio device's I/O thread. */
static const struct vmm_seccomp_rule g_device_io[] = {
	R("epoll_wait", SC_ANY, "the device's event loop"),
	R("epoll_ctl", SC_ANY, "its registrations (tap readiness, vsock connections)"),
	R("read", SC_ANY, "queue-notify eventfds, the tap device, vsock connections"),
	R("readv", SC_ANY, "virtio-net: packets from the tap device"),
	R("writev", SC_ANY, "virtio-net: packets to the tap device"),
	R("preadv", SC_ANY, "virtio-blk: reads"),
	R("pwritev", SC_ANY, "virtio-blk: writes"),
	R("pread64", SC_ANY, "virtio-blk: reads"),
	R("pwrite64", SC_ANY, "virtio-blk: writes"),
	R("fdatasync", SC_ANY, "virtio-blk: flush"),
	R("fsync", SC_ANY, "virtio-blk: flush"),
	R("close", SC_ANY, "vsock: closed connections"),
	R("timerfd_settime", SC_ANY, "rate limiters"),
	R("getrandom", SC_ANY, "virtio-rng: entropy"),
	R("socket", SC_SOCKET_UNIX, "vsock: guest-initiated connections to host Unix sockets"),
	R("connect", SC_ANY, "vsock: guest-initiated connections"),
	R("accept4", SC_ANY, "vsock: host-initiated connections"),
	R("sendto", SC_ANY, "vsock: data to the host side"),
	R("recvfrom", SC_ANY, "vsock: data from the host side"),
	R("sendmsg", SC_ANY, "vsock: data to the host side"),
	R("recvmsg", SC_ANY, "vsock: data from the host side"),
	R("shutdown", SC_ANY, "vsock: half-closed connections"),
	R("getsockopt", SC_ANY, "vsock: connect completion (SO_ERROR)"),
};

/* The metrics writer. */
static const struct vmm_seccomp_rule g_metrics[] = {
	R("openat", SC_ANY, "--metrics FIFO: opened again when a reader comes (the path only)"),
	R("close", SC_ANY, "--metrics FIFO: closed when its reader goes"),
};

/* API mode's main thread once everything has started: wait, then tear down. */
static const struct vmm_seccomp_rule g_main[] = {
	R("poll", SC_ANY, "waits for a stop signal or the run's end"),
	R("ppoll", SC_ANY, "waits for a stop signal or the run's end"),
	R("signalfd4", SC_ANY, "SIGINT/SIGTERM/SIGHUP arrive on a signalfd"),
	R("read", SC_ANY, "the signalfd and the end-of-run eventfd"),
	R("close", SC_ANY, "teardown: every descriptor of the machine and the server"),
	R("epoll_ctl", SC_ANY, "teardown: event loop deregistrations"),
	R("ioctl", SC_IOCTL_TTY, "teardown: the console's terminal modes restored"),
	R("unlink", SC_ANY, "teardown: the API socket file"),
	R("unlinkat", SC_ANY, "teardown: the API socket file"),
	R("fdatasync", SC_ANY, "teardown: disks flushed"),
	R("openat", SC_ANY, "teardown: the last metrics line may open the --metrics FIFO again"),
	R("tgkill", SC_TGKILL_KICK, "SIGUSR1 kicks vCPUs out of KVM_RUN at the end; abort()"),
};

/*
 * Sanitizer builds (ASan+UBSan): what the sanitizer runtime needs in any
 * thread, to start and end threads, print a report (symbolized from the
 * executable and /proc/self/maps) and, at exit, find leaks (LeakSanitizer
 * stops the world with a ptrace'ing helper task).
 */
static const struct vmm_seccomp_rule g_sanitizer[] = {
	R("sigaltstack", SC_ANY, "sanitizer: per-thread alternate signal stack"),
	R("sched_getaffinity", SC_ANY, "sanitizer: thread start"),
	R("sched_yield", SC_ANY, "sanitizer: spin locks"),
	R("getppid", SC_ANY, "sanitizer: LeakSanitizer's helper checks its parent"),
	R("open", SC_ANY, "sanitizer: reports read /proc/self/maps and the executable"),
	R("openat", SC_ANY, "sanitizer: reports read /proc/self/maps and the executable"),
	R("read", SC_ANY, "sanitizer: reports read /proc/self/maps and the executable"),
	R("pread64", SC_ANY, "sanitizer: symbolizer reads the executable"),
	R("close", SC_ANY, "sanitizer: reports"),
	R("lseek", SC_ANY, "sanitizer: symbolizer"),
	R("newfstatat", SC_ANY, "sanitizer: symbolizer"),
	R("fstat", SC_ANY, "sanitizer: symbolizer"),
	R("readlink", SC_ANY, "sanitizer: the executable's path"),
	R("fcntl", SC_ANY, "sanitizer: the symbolizer's descriptors (close-on-exec)"),
	R("ioctl", SC_IOCTL_TTY, "sanitizer: isatty(stderr) for colored reports"),
	R("getdents", SC_ANY, "sanitizer: LeakSanitizer lists /proc/self/task"),
	R("getdents64", SC_ANY, "sanitizer: LeakSanitizer lists /proc/self/task"),
	R("prctl", SC_ANY, "sanitizer: LeakSanitizer's helper (PR_SET_PTRACER, PDEATHSIG)"),
	R("rt_sigaction", SC_ANY, "sanitizer: LeakSanitizer's helper and reports"),
	R("clone", SC_ANY, "sanitizer: LeakSanitizer's stop-the-world helper task"),
	R("wait4", SC_ANY, "sanitizer: LeakSanitizer waits for its helper and stopped threads"),
	R("ptrace", SC_ANY, "sanitizer: LeakSanitizer stops the threads to scan them"),
	R("tgkill", SC_ANY, "sanitizer: reports and LeakSanitizer's helper"),
	R("kill", SC_ANY, "sanitizer: LeakSanitizer's helper"),
	R("nanosleep", SC_ANY, "sanitizer: waits"),
	R("clock_nanosleep", SC_ANY, "sanitizer: waits"),
	R("pipe", SC_ANY, "sanitizer: probes whether memory is readable through a pipe"),
	R("pipe2", SC_ANY, "sanitizer: probes whether memory is readable through a pipe"),
	R("process_vm_readv", SC_ANY, "sanitizer: LeakSanitizer reads registers of stopped threads"),
};

struct group {
	const struct vmm_seccomp_rule *rules;
	size_t n;
};

#define G(a) { a, ARRAY_SIZE(a) }
#define MAX_GROUPS 6

static const struct {
	const char *name;
	const char *what;
	struct group groups[MAX_GROUPS];
	/* the kinds whose threads create threads of this kind under their filter */
	enum vmm_seccomp_kind parents[3];
	unsigned nparents;
} kinds[VMM_SECCOMP_NKINDS] = {
	[VMM_SECCOMP_MAIN] = {
		"main",
		"`osprey --api-sock`'s main thread once the API server (and a --config-file "
		"machine) runs: waits for a stop signal or the run's end, then tears down",
		{ G(g_thread), G(g_main) },
		{ 0 },
		0,
	},
	[VMM_SECCOMP_API] = {
		"api",
		"the API server thread: HTTP requests; builds machines on InstanceStart, "
		"snapshot load and migration; creates the VMM thread and the machine's threads",
		{ G(g_thread), G(g_spawn), G(g_runloop), G(g_machine) },
		{ 0 },
		0,
	},
	[VMM_SECCOMP_VMM] = {
		"vmm",
		"the VMM thread in API mode, and `osprey run`'s main thread: builds machines "
		"(again on --on-reboot restart), runs their event loop, creates the vCPU threads",
		{ G(g_thread), G(g_spawn), G(g_runloop), G(g_machine) },
		{ VMM_SECCOMP_API },
		1,
	},
	[VMM_SECCOMP_VCPU] = {
		"vcpu",
		"a vCPU thread: runs the guest (KVM_RUN or the software CPU) and the device "
		"emulation of its port and MMIO accesses",
		{ G(g_thread), G(g_abort), G(g_vcpu) },
		{ VMM_SECCOMP_VMM },
		1,
	},
	[VMM_SECCOMP_DEVICE_IO] = {
		"device-io",
		"a virtio device's I/O thread: disk, tap, vsock and entropy I/O",
		{ G(g_thread), G(g_abort), G(g_device_io) },
		{ VMM_SECCOMP_API, VMM_SECCOMP_VMM },
		2,
	},
	[VMM_SECCOMP_TIMER] = {
		"timer",
		"the software CPU's timer thread: fires PIT, LAPIC and RTC deadlines",
		{ G(g_thread), G(g_abort) },
		{ VMM_SECCOMP_API, VMM_SECCOMP_VMM },
		2,
	},
	[VMM_SECCOMP_METRICS] = {
		"metrics",
		"the metrics writer (--metrics, PUT /metrics): a JSON line every interval",
		{ G(g_thread), G(g_abort), G(g_metrics) },
		{ VMM_SECCOMP_API, VMM_SECCOMP_VMM },
		2,
	},
};

/* ---- table access ---- */

bool vmm_seccomp_sanitizer_build(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

const char *vmm_seccomp_kind_name(enum vmm_seccomp_kind kind)
{
	return (unsigned)kind < VMM_SECCOMP_NKINDS ? kinds[kind].name : "?";
}

int vmm_seccomp_kind_from_name(const char *name)
{
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return (int)k;
	return -1;
}

const char *vmm_seccomp_cond_text(enum vmm_seccomp_cond cond)
{
	switch (cond) {
	case SC_ANY:
		return "";
	case SC_NO_EXEC:
		return "prot without PROT_EXEC";
	case SC_IOCTL_TTY:
		return "TCGETS, TCSETS*, TIOCGWINSZ only";
	case SC_IOCTL_VCPU:
		return "TUNSETOFFLOAD; on KVM also KVM_RUN and the vCPU state ioctls";
	case SC_TGKILL_ABORT:
		return "this process, SIGABRT";
	case SC_TGKILL_KICK:
		return "this process, SIGUSR1 or SIGABRT";
	case SC_PRCTL_NAME:
		return "PR_SET_NAME only";
	case SC_SOCKET_UNIX:
		return "AF_UNIX only";
	case SC_SECCOMP_LOAD:
		return "SECCOMP_SET_MODE_FILTER only";
	case SC_SIGACTION_GLIBC:
		return "glibc's internal signals (32, 33) only";
	}
	return "?";
}

/* Whether kind has a rule for name that allows at least what cond does. */
static bool kind_covers(enum vmm_seccomp_kind kind, const char *name, enum vmm_seccomp_cond cond)
{
	for (unsigned g = 0; g < MAX_GROUPS && kinds[kind].groups[g].rules; g++) {
		const struct group *grp = &kinds[kind].groups[g];

		for (size_t i = 0; i < grp->n; i++)
			if (strcmp(grp->rules[i].syscall, name) == 0 &&
			    (grp->rules[i].cond == SC_ANY || grp->rules[i].cond == cond))
				return true;
	}
	return false;
}

/*
 * In sanitizer builds the sanitizer rules come after the kind's, each one
 * the kind does not cover already; for a call the kind allows with other
 * arguments, both rules hold (either matches).
 */
static size_t rules_of(enum vmm_seccomp_kind kind, bool sanitizer,
		       void (*fn)(const struct vmm_seccomp_rule *r, void *opaque), void *opaque)
{
	size_t count = 0;

	if ((unsigned)kind >= VMM_SECCOMP_NKINDS)
		return 0;
	for (unsigned g = 0; g < MAX_GROUPS && kinds[kind].groups[g].rules; g++) {
		const struct group *grp = &kinds[kind].groups[g];

		for (size_t i = 0; i < grp->n; i++) {
			fn(&grp->rules[i], opaque);
			count++;
		}
	}
	for (size_t i = 0; sanitizer && i < ARRAY_SIZE(g_sanitizer); i++) {
		if (kind_covers(kind, g_sanitizer[i].syscall, g_sanitizer[i].cond))
			continue;
		fn(&g_sanitizer[i], opaque);
		count++;
	}
	return count;
}

size_t vmm_seccomp_rules(enum vmm_seccomp_kind kind,
			 void (*fn)(const struct vmm_seccomp_rule *r, void *opaque), void *opaque)
{
	return rules_of(kind, vmm_seccomp_sanitizer_build(), fn, opaque);
}

int vmm_seccomp_parent_kinds(enum vmm_seccomp_kind kind, enum vmm_seccomp_kind out[4])
{
	if ((unsigned)kind >= VMM_SECCOMP_NKINDS)
		return -1;
	for (unsigned i = 0; i < kinds[kind].nparents; i++)
		out[i] = kinds[kind].parents[i];
	return (int)kinds[kind].nparents;
}

static void md_row(const struct vmm_seccomp_rule *r, void *opaque)
{
	FILE *f = opaque;
	const char *c = vmm_seccomp_cond_text(r->cond);

	fprintf(f, "| `%s` | %s | %s |\n", r->syscall, *c ? c : "any", r->reason);
}

void vmm_seccomp_write_markdown(FILE *f)
{
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		fprintf(f, "### %s\n\n%s.\n", kinds[k].name, kinds[k].what);
		if (kinds[k].nparents) {
			fprintf(f, "Created under the filter of:");
			for (unsigned i = 0; i < kinds[k].nparents; i++)
				fprintf(f, "%s %s", i ? "," : "", kinds[kinds[k].parents[i]].name);
			fprintf(f, ".\n");
		}
		fprintf(f, "\n| call | arguments | reason |\n|---|---|---|\n");
		rules_of((enum vmm_seccomp_kind)k, false, md_row, f);
		fprintf(f, "\n");
	}
	fprintf(f, "### sanitizer builds: added to every kind\n\n"
		   "| call | arguments | reason |\n|---|---|---|\n");
	for (size_t i = 0; i < ARRAY_SIZE(g_sanitizer); i++)
		md_row(&g_sanitizer[i], f);
}

/* ---- installation ---- */

static bool enabled;
static bool log_mode;	     /* OSPREY_SECCOMP_LOG: trap, log, then end */
static int selftest_kind = -1; /* OSPREY_SECCOMP_SELFTEST */
static int selftest_done;
static unsigned logged_kinds; /* bit per kind: "installed" logged once */
static pid_t self_pid;

static const unsigned long kvm_vcpu_ioctls[] = {
	KVM_RUN,	     KVM_GET_REGS,	  KVM_SET_REGS,	       KVM_GET_SREGS,
	KVM_SET_SREGS,	     KVM_TRANSLATE,	  KVM_GET_MSRS,	       KVM_SET_MSRS,
	KVM_GET_FPU,	     KVM_SET_FPU,	  KVM_GET_LAPIC,       KVM_SET_LAPIC,
	KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_MP_STATE,    KVM_SET_MP_STATE,
	KVM_GET_XSAVE,	     KVM_SET_XSAVE,	  KVM_GET_XCRS,	       KVM_SET_XCRS,
	KVM_GET_DEBUGREGS,   KVM_SET_DEBUGREGS,	  KVM_GET_CPUID2,      KVM_SET_CPUID2,
	KVM_KVMCLOCK_CTRL,   KVM_GET_TSC_KHZ,	  KVM_SET_SIGNAL_MASK, KVM_IRQ_LINE,
	KVM_SIGNAL_MSI,	     KVM_IRQ_LINE_STATUS, KVM_INTERRUPT,       KVM_NMI,
	/* the vCPU's TSC offset attribute and frequency (state restore) */
	KVM_GET_DEVICE_ATTR, KVM_SET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR, KVM_SET_TSC_KHZ,
};

static const unsigned long tty_ioctls[] = {
	TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ,
};

/* An argument comparison, every field set (libseccomp's SCMP_A* macros leave some out). */
static struct scmp_arg_cmp cmp(unsigned arg, enum scmp_compare op, scmp_datum_t a, scmp_datum_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *c)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, c);
}

static int add_ioctls(scmp_filter_ctx ctx, int nr, const unsigned long *v, size_t n)
{
	int ret = 0;

	/* The kernel takes the request as an unsigned int: compare 32 bits. */
	for (size_t i = 0; !ret && i < n; i++) {
		struct scmp_arg_cmp c = cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffULL, v[i]);

		ret = add(ctx, nr, 1, &c);
	}
	return ret;
}

static int add_tgkill(scmp_filter_ctx ctx, int nr, int sig)
{
	struct scmp_arg_cmp c[2] = {
		cmp(0, SCMP_CMP_EQ, (scmp_datum_t)self_pid, 0),
		cmp(2, SCMP_CMP_EQ, (scmp_datum_t)sig, 0),
	};

	return add(ctx, nr, 2, c);
}

static int add_rule(scmp_filter_ctx ctx, const struct vmm_seccomp_rule *r, unsigned flags)
{
	int nr = seccomp_syscall_resolve_name(r->syscall);
	struct scmp_arg_cmp c;
	int ret;

	if (nr == __NR_SCMP_ERROR)
		return -ENOENT;
	if (nr < 0)
		return 0; /* a pseudo-call this architecture does not have (e.g. open elsewhere) */
	switch (r->cond) {
	case SC_ANY:
		return add(ctx, nr, 0, NULL);
	case SC_NO_EXEC:
		c = cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		return add(ctx, nr, 1, &c);
	case SC_IOCTL_TTY:
		return add_ioctls(ctx, nr, tty_ioctls, ARRAY_SIZE(tty_ioctls));
	case SC_IOCTL_VCPU: {
		static const unsigned long tap[] = { TUNSETOFFLOAD };

		ret = add_ioctls(ctx, nr, tap, ARRAY_SIZE(tap));
		if (!ret && (flags & VMM_SECCOMP_F_KVM))
			ret = add_ioctls(ctx, nr, kvm_vcpu_ioctls, ARRAY_SIZE(kvm_vcpu_ioctls));
		return ret;
	}
	case SC_TGKILL_ABORT:
		return add_tgkill(ctx, nr, SIGABRT);
	case SC_TGKILL_KICK:
		ret = add_tgkill(ctx, nr, SIGABRT);
		return ret ? ret : add_tgkill(ctx, nr, SIGUSR1);
	case SC_PRCTL_NAME:
		c = cmp(0, SCMP_CMP_EQ, PR_SET_NAME, 0);
		return add(ctx, nr, 1, &c);
	case SC_SOCKET_UNIX:
		c = cmp(0, SCMP_CMP_EQ, AF_UNIX, 0);
		return add(ctx, nr, 1, &c);
	case SC_SECCOMP_LOAD:
		c = cmp(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER, 0);
		return add(ctx, nr, 1, &c);
	case SC_SIGACTION_GLIBC:
		/* SIGCANCEL and SIGSETXID: the first two real-time signals, below SIGRTMIN. */
		c = cmp(0, SCMP_CMP_EQ, 32, 0);
		ret = add(ctx, nr, 1, &c);
		c = cmp(0, SCMP_CMP_EQ, 33, 0);
		return ret ? ret : add(ctx, nr, 1, &c);
	}
	return -EINVAL;
}

struct build {
	scmp_filter_ctx ctx;
	unsigned flags;
	int ret;
	const char *bad;
};

static void build_one(const struct vmm_seccomp_rule *r, void *opaque)
{
	struct build *b = opaque;
	int ret;

	if (b->ret)
		return;
	ret = add_rule(b->ctx, r, b->flags);
	if (ret) {
		b->ret = ret;
		b->bad = r->syscall;
	}
}

/* Appends s to buf at *n (async-signal-safe). */
static void put_str(char *buf, size_t size, size_t *n, const char *s)
{
	while (*s && *n + 1 < size)
		buf[(*n)++] = *s++;
}

static void put_num(char *buf, size_t size, size_t *n, long v)
{
	char tmp[24];
	size_t i = 0;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do
		tmp[i++] = (char)('0' + u % 10);
	while ((u /= 10) && i < sizeof(tmp));
	if (v < 0 && *n + 1 < size)
		buf[(*n)++] = '-';
	while (i && *n + 1 < size)
		buf[(*n)++] = tmp[--i];
}

/*
 * The SIGSYS handler of OSPREY_SECCOMP_LOG=1: one line, then the end
 * (exit status 159). Only calls every filter allows (write, exit_group).
 */
static void on_sigsys(int sig, siginfo_t *si, void *uctx)
{
	char buf[160];
	size_t n = 0;

	(void)sig;
	(void)uctx;
	put_str(buf, sizeof(buf), &n, "osprey: error: seccomp: forbidden system call ");
	put_num(buf, sizeof(buf), &n, si->si_syscall);
	put_str(buf, sizeof(buf), &n, " (thread ");
	put_num(buf, sizeof(buf), &n, (long)syscall(SYS_gettid));
	put_str(buf, sizeof(buf), &n, "); scmp_sys_resolver ");
	put_num(buf, sizeof(buf), &n, si->si_syscall);
	put_str(buf, sizeof(buf), &n, " names it\n");
	(void)!syscall(SYS_write, 2, buf, n);
	syscall(SYS_exit_group, 128 + SIGSYS);
}

int vmm_seccomp_configure(bool on, char *err, size_t errlen)
{
	const char *s = getenv(VMM_SECCOMP_SELFTEST_ENV);
	struct sigaction sa;

	enabled = false;
	selftest_kind = -1;
	if (s && *s) {
		selftest_kind = vmm_seccomp_kind_from_name(s);
		if (selftest_kind < 0) {
			snprintf(err, errlen, "%s=%s: not a thread kind (main, api, vmm, vcpu, "
				 "device-io, timer, metrics)", VMM_SECCOMP_SELFTEST_ENV, s);
			return -EINVAL;
		}
	}
	if (!on) {
		log_info("seccomp", "filters off (--no-seccomp)");
		return 0;
	}
	/*
	 * The kernel must know filters and the kill-process action (Linux
	 * 4.14): ask it directly, as libseccomp's own probe would later.
	 */
	{
		uint32_t action = SECCOMP_RET_KILL_PROCESS;

		if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
			snprintf(err, errlen,
				 "seccomp: this kernel has no seccomp filters with the kill-process "
				 "action (%s); run with --no-seccomp to go without them",
				 strerror(errno));
			return -ENOSYS;
		}
	}
	/* libseccomp's probes, once, while no filter forbids them. */
	if (seccomp_api_get() < 3) {
		snprintf(err, errlen, "seccomp: libseccomp finds too old a seccomp interface in "
			 "this kernel; run with --no-seccomp to go without filters");
		return -ENOSYS;
	}
	/* Filters need no_new_privs; set once here, every later thread inherits it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "seccomp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -errno;
	}
	/*
	 * glibc reads /etc/localtime on its first time conversion (gmtime_r in
	 * the RTC runs on a vCPU thread): read it now, not under a filter.
	 */
	tzset();
	/*
	 * jansson seeds its hash function from /dev/urandom when the first
	 * JSON object is made, on whatever thread that is (the metrics
	 * writer's filter has no read): seed it now.
	 */
	json_object_seed(0);
	self_pid = getpid();
	s = getenv(VMM_SECCOMP_LOG_ENV);
	log_mode = s && strcmp(s, "1") == 0;
	if (log_mode) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
	}
	enabled = true;
	return 0;
}

bool vmm_seccomp_enabled(void)
{
	return enabled;
}

/* OSPREY_SECCOMP_SELFTEST: the first thread of the kind calls times(), which no kind allows. */
static void selftest(enum vmm_seccomp_kind kind)
{
	if (selftest_kind != (int)kind || __atomic_exchange_n(&selftest_done, 1, __ATOMIC_SEQ_CST))
		return;
	log_warnx("seccomp", "self-test: the %s thread calls times(), which its filter forbids",
		  kinds[kind].name);
	(void)!syscall(SYS_times, NULL);
	log_warnx("seccomp", "self-test: the %s thread survived times() (filters off)",
		  kinds[kind].name);
}

int vmm_seccomp_check(enum vmm_seccomp_kind kind, unsigned flags, const char **bad)
{
	struct build b = { .flags = flags };

	*bad = NULL;
	if ((unsigned)kind >= VMM_SECCOMP_NKINDS)
		return -EINVAL;
	b.ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!b.ctx)
		return -ENOMEM;
	vmm_seccomp_rules(kind, build_one, &b);
	seccomp_release(b.ctx);
	*bad = b.bad;
	return b.ret;
}

void vmm_seccomp_enter(enum vmm_seccomp_kind kind, unsigned flags)
{
	struct build b = { .flags = flags };
	unsigned bit = 1u << kind;
	int ret;

	if ((unsigned)kind >= VMM_SECCOMP_NKINDS)
		return;
	if (!enabled) {
		selftest(kind);
		return;
	}
	b.ctx = seccomp_init(log_mode ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!b.ctx) {
		ret = -ENOMEM;
		goto fail;
	}
	/* no_new_privs is set already (vmm_seccomp_configure): no prctl here. */
	ret = seccomp_attr_set(b.ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!ret)
		vmm_seccomp_rules(kind, build_one, &b);
	if (!ret)
		ret = b.ret;
	if (!ret)
		ret = seccomp_load(b.ctx);
	seccomp_release(b.ctx);
	if (ret)
		goto fail;
	if (!(__atomic_fetch_or(&logged_kinds, bit, __ATOMIC_RELAXED) & bit))
		log_info("seccomp", "%s filter installed (first %s thread)%s", kinds[kind].name,
			 kinds[kind].name, (flags & VMM_SECCOMP_F_KVM) ? ", KVM ioctls" : "");
	selftest(kind);
	return;
fail:
	log_errx("seccomp", "cannot install the %s thread's filter%s%s: %s", kinds[kind].name,
		 b.bad ? " at " : "", b.bad ? b.bad : "", strerror(-ret));
	_exit(1);
}
