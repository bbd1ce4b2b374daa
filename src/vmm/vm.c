// SPDX-License-Identifier: Apache-2.0
/*
 * Machine construction and the run loop. vm_create() is the only place a
 * machine is built, from a validated struct vm_config.
 */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "base/event_loop.h"
#include "base/log.h"
#include "base/util.h"
#include "devices/device.h"
#include "loader/loader.h"

#define KVM_DEVICE "/dev/kvm"

static int kvm_open(struct vm *vm)
{
	int version;

	vm->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = -errno;

		if (errno == ENOENT)
			log_errx("kvm", "cannot open " KVM_DEVICE
					": no such device (is the kvm module loaded and "
					"hardware virtualization enabled?)");
		else if (errno == EACCES || errno == EPERM)
			log_errx("kvm", "cannot open " KVM_DEVICE
					": permission denied (run as root or join the kvm group)");
		else
			log_err("kvm", "cannot open " KVM_DEVICE);
		return err;
	}
	version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		log_errx("kvm", "unsupported KVM API version %d (need %d)", version, KVM_API_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

static int kvm_check_caps(struct vm *vm)
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
	};
	int max_vcpus;

	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			log_errx("kvm", "this host's KVM lacks %s", required[i].name);
			return -ENOTSUP;
		}
	}
	max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = 4;
	if (vm->cfg->ncpus > (unsigned)max_vcpus) {
		log_errx("kvm", "--cpus %u is above this host's KVM limit of %d vCPUs",
			 vm->cfg->ncpus, max_vcpus);
		return -EINVAL;
	}
	vm->run_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_mmap_size <= 0) {
		log_err("kvm", "KVM_GET_VCPU_MMAP_SIZE");
		return -ENOTSUP;
	}
	return 0;
}

static int vm_setup_kvm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = 0 };
	const char *step;

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		step = "KVM_CREATE_VM";
		goto fail;
	}
	step = "KVM_SET_TSS_ADDR";
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS_ADDR) < 0)
		goto fail;
	step = "KVM_SET_IDENTITY_MAP_ADDR";
	{
		uint64_t addr = X86_KVM_IDENTITY_MAP_ADDR;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			goto fail;
	}
	step = "KVM_CREATE_IRQCHIP";
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail;
	step = "KVM_CREATE_PIT2";
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto fail;
	return 0;
fail:
	log_err("kvm", "%s failed", step);
	return -errno;
}

static int vm_setup_memory(struct vm *vm)
{
	int ret = guest_mem_init(&vm->mem, vm->cfg->mem_size);

	if (ret) {
		errno = -ret;
		log_err("memory", "cannot allocate %llu MiB of guest RAM",
			(unsigned long long)(vm->cfg->mem_size >> 20));
		return ret;
	}
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			ret = -errno;
			log_err("memory", "KVM_SET_USER_MEMORY_REGION slot %u", i);
			return ret;
		}
	}
	return 0;
}

static int vm_create_devices(struct vm *vm)
{
	for (const struct device_desc *const *d = __start_osprey_devices;
	     d < __stop_osprey_devices; d++) {
		int ret = (*d)->create(vm);

		if (ret) {
			errno = -ret;
			log_err("device", "cannot create device %s", (*d)->name);
			return ret;
		}
		log_debug("device", "created %s", (*d)->name);
	}
	return 0;
}

/* Loads kernel and initrd, writes boot structures, sets up the boot vCPU. */
static int vm_load_guest(struct vm *vm, const struct kvm_cpuid2 *cpuid)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_image img;
	char err[LOADER_ERR_MAX] = "";
	char *cmdline = NULL;
	const char *parts[5];
	gpa_t initrd_addr = 0, limit, low_end = guest_mem_low_end(&vm->mem);
	uint64_t initrd_size = 0, param = 0;
	struct kvm_cpuid2 *tmp;
	struct kvm_cpuid_entry2 *leaf1;
	struct x86_boot_setup setup;
	int ret;

	ret = kernel_load_file(&vm->mem, cfg->kernel_path, &img, err, sizeof(err));
	if (ret) {
		log_errx("loader", "kernel: %s", err);
		return ret;
	}
	if (img.kernel_start < X86_HIMEM_START || img.kernel_end > low_end) {
		log_errx("loader",
			 "kernel: %s occupies 0x%llx-0x%llx, outside RAM from 1 MiB to 0x%llx (more --memory?)",
			 cfg->kernel_path, (unsigned long long)img.kernel_start,
			 (unsigned long long)img.kernel_end, (unsigned long long)low_end);
		return -ENOSPC;
	}
	log_info("loader", "kernel %s: %s, entry 0x%llx", cfg->kernel_path, img.format,
		 (unsigned long long)img.entry);

	if (cfg->initrd_path) {
		limit = low_end;
		if (img.initrd_addr_max && img.initrd_addr_max + 1 < limit)
			limit = img.initrd_addr_max + 1;
		ret = initrd_load_file(&vm->mem, cfg->initrd_path, ALIGN_UP(img.kernel_end, 4096),
				       limit, &initrd_addr, &initrd_size, err, sizeof(err));
		if (ret) {
			log_errx("loader", "initrd: %s", err);
			return ret;
		}
	}

	cmdline = malloc(VM_CMDLINE_MAX);
	if (!cmdline)
		return -ENOMEM;
	parts[0] = cfg->no_default_cmdline ? NULL : vm_config_console_param(cfg);
	parts[1] = cfg->no_default_cmdline ? NULL : VM_DEFAULT_CMDLINE;
	parts[2] = cfg->no_default_cmdline && !cfg->keep_template_cmdline ?
			   NULL :
			   vm->tmpl->kernel_params;
	parts[3] = vm->dev_cmdline;
	parts[4] = cfg->cmdline;
	ret = cmdline_build(cmdline, VM_CMDLINE_MAX, parts, 5);
	if (ret) {
		log_errx("loader", "kernel command line longer than %d bytes", VM_CMDLINE_MAX - 1);
		goto out;
	}
	log_info("loader", "command line: %s", cmdline);

	tmp = cpuid_dup(cpuid);
	if (!tmp) {
		ret = -ENOMEM;
		goto out;
	}
	leaf1 = cpuid_find(tmp, 1, 0);
	setup = (struct x86_boot_setup){
		.img = &img,
		.cmdline = cmdline,
		.initrd_addr = initrd_addr,
		.initrd_size = initrd_size,
		.ncpus = vm->ncpus,
		.cpu_signature = leaf1 ? leaf1->eax : 0,
		.cpu_features = leaf1 ? leaf1->edx : 0,
	};
	free(tmp);
	ret = x86_boot_setup(&vm->mem, &setup, &param, err, sizeof(err));
	if (ret) {
		log_errx("loader", "%s", err);
		goto out;
	}
	ret = vcpu_setup_boot(&vm->vcpus[0], img.entry_mode, img.entry, param);
out:
	free(cmdline);
	return ret;
}

static int vm_setup_cpus(struct vm *vm, struct kvm_cpuid2 **cpuid_out)
{
	struct kvm_cpuid2 *cpuid = NULL;
	int ret;

	ret = cpuid_get_supported(vm->kvm_fd, &cpuid);
	if (ret) {
		errno = -ret;
		log_err("cpuid", "KVM_GET_SUPPORTED_CPUID");
		return ret;
	}
	cpu_template_apply(vm->tmpl, cpuid);
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(cpuid);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i, cpuid);
		if (ret) {
			free(cpuid);
			return ret;
		}
	}
	*cpuid_out = cpuid;
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct kvm_cpuid2 *cpuid = NULL;
	int ret;

	if (!vm)
		return -ENOMEM;
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->exit_efd = -1;
	vm->ncpus = cfg->ncpus;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->console.out_fd = vm->console.in_fd = vm->console.ready_efd = -1;

	vm->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->loop = event_loop_new();
	if (vm->exit_efd < 0 || !vm->loop) {
		log_err("vm", "cannot create the event loop");
		ret = -ENOMEM;
		goto fail;
	}
	if (strcmp(cfg->cpu_template, "auto") == 0)
		vm->tmpl = cpu_template_for_host(x86_host_kvm_is_emulated());
	else
		vm->tmpl = cpu_template_find(cfg->cpu_template);
	log_info("vm", "CPU template: %s (%s)", vm->tmpl->name, vm->tmpl->description);

	ret = kvm_open(vm);
	if (!ret)
		ret = kvm_check_caps(vm);
	if (!ret)
		ret = vm_setup_kvm(vm);
	if (!ret)
		ret = vm_setup_memory(vm);
	if (!ret)
		ret = console_open(&vm->console, vm, cfg->console, cfg->console_path);
	if (!ret)
		ret = vm_create_devices(vm);
	if (!ret)
		ret = vm_setup_cpus(vm, &cpuid);
	if (!ret)
		ret = vm_load_guest(vm, cpuid);
	free(cpuid);
	if (ret)
		goto fail;
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
	return ret;
}

void vm_request_exit(struct vm *vm, int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->exit_lock);
	if (!vm->exit_requested) {
		vm->exit_status = status;
		__atomic_store_n(&vm->exit_requested, true, __ATOMIC_RELEASE);
		(void)!write(vm->exit_efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&vm->exit_lock);
	/* Parked vCPUs and a waiting vm_pause() see exit_requested. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_irq_line(struct vm *vm, unsigned irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = (uint32_t)level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0) {
		log_warn("irq", "KVM_IRQ_LINE %u", irq);
		return -errno;
	}
	return 0;
}

int vm_alloc_mmio(struct vm *vm, uint64_t size, uint64_t *base)
{
	uint64_t b;

	if (!vm->next_mmio)
		vm->next_mmio = X86_MMIO_DEVICES_BASE;
	b = ALIGN_UP(vm->next_mmio, size < 4096 ? 4096 : size);
	if (b + size > X86_IOAPIC_ADDR)
		return -ENOSPC;
	vm->next_mmio = b + size;
	*base = b;
	return 0;
}

int vm_alloc_irq(struct vm *vm, unsigned *irq)
{
	/* ISA lines nothing else uses (0 PIT, 1 i8042, 2 cascade, 4 COM1, 8 RTC). */
	static const unsigned free_irqs[] = { 5,  6,  7,  9,  10, 11, 12, 14, 15, 16,
					      17, 18, 19, 20, 21, 22, 23 };

	if (vm->next_irq_index >= ARRAY_SIZE(free_irqs))
		return -ENOSPC;
	*irq = free_irqs[vm->next_irq_index++];
	return 0;
}

int vm_cmdline_append(struct vm *vm, const char *param)
{
	size_t used = strlen(vm->dev_cmdline), n = strlen(param);

	if (used + n + 2 > sizeof(vm->dev_cmdline))
		return -E2BIG;
	if (used)
		vm->dev_cmdline[used++] = ' ';
	memcpy(vm->dev_cmdline + used, param, n + 1);
	return 0;
}

int vm_add_cleanup(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
	if (vm->ncleanups == VM_MAX_CLEANUPS) {
		fn(opaque);
		return -ENOSPC;
	}
	vm->cleanups[vm->ncleanups].fn = fn;
	vm->cleanups[vm->ncleanups].opaque = opaque;
	vm->ncleanups++;
	return 0;
}

static void vm_on_exit_event(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	(void)events;
	(void)!read(vm->exit_efd, &v, sizeof(v));
}

struct vm_signal_ctx {
	struct vm *vm;
	int fd;
};

static void vm_on_signal(void *opaque, uint32_t events)
{
	struct vm_signal_ctx *ctx = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(ctx->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("vm", "stopping on signal %u", si.ssi_signo);
		vm_request_exit(ctx->vm, VM_EXIT_SIGNAL + (int)si.ssi_signo);
	}
}

int vm_run(struct vm *vm)
{
	sigset_t sigs;
	int sfd, ret;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	struct vm_signal_ctx sctx = { .vm = vm };

	/* main() blocked these signals in every thread; they arrive here. */
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	sctx.fd = sfd;
	ret = event_loop_add(vm->loop, vm->exit_efd, EPOLLIN, vm_on_exit_event, vm);
	if (!ret && sfd >= 0)
		ret = event_loop_add(vm->loop, sfd, EPOLLIN, vm_on_signal, &sctx);
	if (!ret)
		ret = console_attach(&vm->console);
	if (ret) {
		errno = -ret;
		log_err("vm", "cannot set up the event loop");
		if (sfd >= 0)
			close(sfd);
		return VM_EXIT_ERROR;
	}
	for (unsigned i = 0; i < vm->ncpus && !ret; i++)
		ret = vcpu_start(&vm->vcpus[i]);
	if (ret)
		vm_request_exit(vm, VM_EXIT_ERROR);

	while (!__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
		event_loop_run_once(vm->loop, -1);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
		vcpu_log_exit_stats(&vm->vcpus[i]);
	}
	if (sfd >= 0) {
		event_loop_remove(vm->loop, sfd);
		close(sfd);
	}
	return vm->exit_status;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->vcpus) {
		for (unsigned i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].vm)
				vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	while (vm->ncleanups) {
		vm->ncleanups--;
		vm->cleanups[vm->ncleanups].fn(vm->cleanups[vm->ncleanups].opaque);
	}
	console_close(&vm->console);
	guest_mem_destroy(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	event_loop_free(vm->loop);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
}
