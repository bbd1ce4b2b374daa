// SPDX-License-Identifier: Apache-2.0
/*
 * Machine construction and the run loop. vm_create() (a booting machine)
 * and vm_create_from() (a restored one: snapshot, migration) share
 * vm_build(), the only place a machine is built from a validated struct
 * vm_config.
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
#include <sys/signalfd.h>
#include <unistd.h>

#include "accel/accel.h"
#include "arch/x86/boot.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "base/event_loop.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/util.h"
#include "hw/device.h"
#include "hw/vmm_metrics.h"
#include "loader/loader.h"
#include "vmm/dirty.h"

/* Anonymous RAM (mem_fd < 0) or RAM mapped from a memory file (taken over). */
static int vm_setup_memory(struct vm *vm, int mem_fd)
{
	int ret;

	if (mem_fd < 0) {
		ret = guest_mem_init(&vm->mem, vm->cfg->mem_size);
		if (ret) {
			errno = -ret;
			log_err("memory", "cannot allocate %llu MiB of guest RAM",
				(unsigned long long)(vm->cfg->mem_size >> 20));
		}
		return ret;
	}
	ret = guest_mem_init_file(&vm->mem, vm->cfg->mem_size, mem_fd);
	if (ret) {
		close(mem_fd);
		errno = -ret;
		log_err("memory", "cannot map %llu MiB of guest RAM from the memory file",
			(unsigned long long)(vm->cfg->mem_size >> 20));
	}
	return ret;
}

_Static_assert(DEVICE_EXIT_POWEROFF == (int)VM_EXIT_POWEROFF, "device_exit != vm_exit");
_Static_assert(DEVICE_EXIT_REBOOT == (int)VM_EXIT_REBOOT, "device_exit != vm_exit");

/* The device_env callbacks: the machine behind env->machine is a struct vm. */
static int env_irq_line(void *machine, unsigned gsi, int level)
{
	return vm_irq_line(machine, gsi, level);
}

static int env_irqfd(void *machine, unsigned gsi, int fd)
{
	struct vm *vm = machine;

	if (!vm->accel || !vm->machine.priv)
		return -ENOTSUP;
	return vm->accel->irqfd(&vm->machine, gsi, fd);
}

static int env_notify_fd(void *machine, uint64_t addr, uint32_t datamatch, int fd)
{
	struct vm *vm = machine;

	if (!vm->accel || !vm->machine.priv)
		return -ENOTSUP;
	return vm->accel->notify_fd(&vm->machine, addr, datamatch, fd);
}

static int env_alloc_mmio(void *machine, uint64_t size, uint64_t *base)
{
	return vm_alloc_mmio(machine, size, base);
}

static int env_alloc_irq(void *machine, unsigned *gsi)
{
	return vm_alloc_irq(machine, gsi);
}

static int env_cmdline_append(void *machine, const char *param)
{
	return vm_cmdline_append(machine, param);
}

static int env_add_cleanup(void *machine, void (*fn)(void *opaque), void *opaque)
{
	return vm_add_cleanup(machine, fn, opaque);
}

static void env_request_exit(void *machine, int status)
{
	vm_request_exit(machine, status);
}

static void env_set_ctrl_alt_del(void *machine, void (*fn)(void *opaque), void *opaque)
{
	struct vm *vm = machine;

	vm->ctrl_alt_del = fn;
	vm->ctrl_alt_del_opaque = opaque;
}

static void env_set_balloon(void *machine, struct virtio_dev *d,
			    void (*report)(struct virtio_dev *d))
{
	struct vm *vm = machine;

	vm->balloon = d;
	vm->balloon_report = report;
}

static void env_set_disk(void *machine, unsigned index, struct virtio_dev *d)
{
	struct vm *vm = machine;

	if (index < VM_MAX_DISKS)
		vm->disk_devs[index] = d;
}

static void env_set_net(void *machine, unsigned index, struct virtio_dev *d)
{
	struct vm *vm = machine;

	if (index < VM_MAX_NETS)
		vm->net_devs[index] = d;
}

static int env_register_state(void *machine, const char *name, const struct device_state_ops *ops,
			      void *opaque)
{
	return vm_register_state(machine, name, ops, opaque);
}

int vm_register_state(struct vm *vm, const char *name, const struct device_state_ops *ops,
		      void *opaque)
{
	struct vm_state_handler *h;

	if (!name || !*name || strlen(name) > STATE_NAME_MAX || !ops || !ops->save || !ops->load)
		return -EINVAL;
	for (unsigned i = 0; i < vm->nstate_handlers; i++)
		if (strcmp(vm->state_handlers[i].name, name) == 0)
			return -EEXIST;
	if (vm->nstate_handlers == VM_MAX_STATE_HANDLERS)
		return -ENOSPC;
	h = &vm->state_handlers[vm->nstate_handlers++];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->ops = ops;
	h->opaque = opaque;
	return 0;
}

/* vm->dev_env: what every device's create() is given. */
static void vm_init_device_env(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct device_env *env = &vm->dev_env;

	*env = (struct device_env){
		.machine = vm,
		.mem = &vm->mem,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.cfg = {
			.disks = cfg->disks,
			.ndisks = cfg->ndisks,
			.nets = cfg->nets,
			.nnets = cfg->nnets,
			.rng = cfg->rng,
			.rng_rate_limit = &cfg->rng_rate_limit,
			.vsock = &cfg->vsock,
			.balloon = &cfg->balloon,
			.console_virtio = cfg->console_virtio,
		},
		.irq_line = env_irq_line,
		.irqfd = env_irqfd,
		.notify_fd = env_notify_fd,
		.alloc_mmio = env_alloc_mmio,
		.alloc_irq = env_alloc_irq,
		.cmdline_append = env_cmdline_append,
		.add_cleanup = env_add_cleanup,
		.request_exit = env_request_exit,
		.set_ctrl_alt_del = env_set_ctrl_alt_del,
		.set_balloon = env_set_balloon,
		.set_disk = env_set_disk,
		.set_net = env_set_net,
		.register_state = env_register_state,
	};
	console_device_port(&vm->console, &env->console);
}

static int vm_create_devices(struct vm *vm)
{
	vm_init_device_env(vm);
	for (const struct device_desc *const *d = __start_osprey_devices;
	     d < __stop_osprey_devices; d++) {
		int ret = (*d)->create(&vm->dev_env);

		if (ret) {
			errno = -ret;
			log_err("device", "cannot create device %s", (*d)->name);
			return ret;
		}
		log_debug("device", "created %s", (*d)->name);
	}
	return 0;
}

/* Where the kernel and initrd went (vm_load_images), for the boot structures. */
struct vm_boot_files {
	struct boot_image img;
	gpa_t initrd_addr;
	uint64_t initrd_size;
};

/*
 * Loads kernel and initrd into guest RAM. Runs before any accelerator is
 * opened, so a bad boot file is the error a user sees first.
 */
static int vm_load_images(struct vm *vm, struct vm_boot_files *f)
{
	const struct vm_config *cfg = vm->cfg;
	char err[LOADER_ERR_MAX] = "";
	gpa_t limit, low_end = guest_mem_low_end(&vm->mem);
	int ret;

	ret = kernel_load_file(&vm->mem, cfg->kernel_path, &f->img, err, sizeof(err));
	if (ret) {
		log_errx("loader", "kernel: %s", err);
		return ret;
	}
	if (f->img.kernel_start < X86_HIMEM_START || f->img.kernel_end > low_end) {
		log_errx("loader",
			 "kernel: %s occupies 0x%llx-0x%llx, outside RAM from 1 MiB to 0x%llx (more --memory?)",
			 cfg->kernel_path, (unsigned long long)f->img.kernel_start,
			 (unsigned long long)f->img.kernel_end, (unsigned long long)low_end);
		return -ENOSPC;
	}
	log_info("loader", "kernel %s: %s, entry 0x%llx", cfg->kernel_path, f->img.format,
		 (unsigned long long)f->img.entry);

	if (cfg->initrd_path) {
		limit = low_end;
		if (f->img.initrd_addr_max && f->img.initrd_addr_max + 1 < limit)
			limit = f->img.initrd_addr_max + 1;
		ret = initrd_load_file(&vm->mem, cfg->initrd_path, ALIGN_UP(f->img.kernel_end, 4096),
				       limit, &f->initrd_addr, &f->initrd_size, err, sizeof(err));
		if (ret) {
			log_errx("loader", "initrd: %s", err);
			return ret;
		}
	}
	return 0;
}

/* Writes the command line and boot structures, sets up the boot vCPU. */
static int vm_setup_boot(struct vm *vm, struct cpuid_table *cpuid, const struct vm_boot_files *f)
{
	const struct vm_config *cfg = vm->cfg;
	char err[LOADER_ERR_MAX] = "";
	char *cmdline = NULL;
	const char *parts[5];
	uint64_t param = 0;
	struct cpuid_entry *leaf1;
	struct x86_boot_setup setup;
	int ret;

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

	leaf1 = cpuid_find(cpuid, 1, 0);
	setup = (struct x86_boot_setup){
		.img = &f->img,
		.cmdline = cmdline,
		.initrd_addr = f->initrd_addr,
		.initrd_size = f->initrd_size,
		.ncpus = vm->ncpus,
		.cpu_signature = leaf1 ? leaf1->eax : 0,
		.cpu_features = leaf1 ? leaf1->edx : 0,
	};
	ret = x86_boot_setup(&vm->mem, &setup, &param, err, sizeof(err));
	if (ret) {
		log_errx("loader", "%s", err);
		goto out;
	}
	ret = vcpu_setup_boot(&vm->vcpus[0], f->img.entry_mode, f->img.entry, param);
out:
	free(cmdline);
	return ret;
}

static int vm_setup_cpus(struct vm *vm, struct cpuid_table **cpuid_out)
{
	struct cpuid_table *cpuid = NULL;
	int ret;

	ret = vm->accel->cpuid(&vm->machine, &cpuid);
	if (ret)
		return ret;
	cpu_template_apply(vm->tmpl, cpuid);
	*cpuid_out = cpuid;
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = vcpu_create(vm, &vm->vcpus[i], i, cpuid);
		if (ret)
			return ret;
	}
	return 0;
}

/* The backend and the CPU template for cfg (no device is opened yet). */
static int vm_choose_accel(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	char err[160];
	int ret = accel_select(cfg->accel, &vm->accel, err, sizeof(err));

	if (ret) {
		log_errx("vm", "%s", err);
		return ret;
	}
	if (strcmp(cfg->cpu_template, "auto") == 0)
		vm->tmpl = cpu_template_find(vm->accel->auto_template());
	else
		vm->tmpl = cpu_template_find(cfg->cpu_template);
	if (!vm->tmpl) {
		log_errx("vm", "unknown CPU template %s", cfg->cpu_template);
		return -EINVAL;
	}
	if (vm->tmpl->soft_only && vm->accel != &accel_soft_ops) {
		log_errx("vm", "CPU template %s needs --accel soft", vm->tmpl->name);
		return -EINVAL;
	}
	return 0;
}

/*
 * Builds the machine: booting (rs NULL: kernel and initrd loaded, boot
 * vCPU set up) or restored (rs: RAM from rs->mem_fd, no boot at all).
 * Devices and vCPUs are created the same way in both cases, so a
 * restored machine has the same MMIO windows, lines and state handlers.
 */
static int vm_build(const struct vm_config *cfg, const struct vm_restore *rs, struct vm **out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct cpuid_table *cpuid = NULL;
	struct vm_boot_files *files = NULL;
	int mem_fd = rs ? rs->mem_fd : -1;
	int ret;

	if (!vm) {
		if (mem_fd >= 0)
			close(mem_fd);
		return -ENOMEM;
	}
	vm->cfg = cfg;
	vm->exit_efd = -1;
	vm->ncpus = cfg->ncpus;
	vm->start_paused = rs && rs->start_paused;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	vm->machine = (struct accel_machine){
		.mem = &vm->mem,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.ncpus = vm->ncpus,
	};
	vm->console.out_fd = vm->console.in_fd = vm->console.ready_efd = -1;

	vm->exit_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->loop = event_loop_new();
	if (vm->exit_efd < 0 || !vm->loop) {
		log_err("vm", "cannot create the event loop");
		ret = -ENOMEM;
		goto fail;
	}
	files = calloc(1, sizeof(*files));
	if (!files) {
		ret = -ENOMEM;
		goto fail;
	}
	/* Boot files first: their errors come before any accelerator's. */
	ret = vm_choose_accel(vm);
	if (!ret)
		ret = vm_setup_memory(vm, mem_fd);
	mem_fd = -1; /* taken over (or closed) */
	if (!ret && !rs)
		ret = vm_load_images(vm, files);
	if (ret)
		goto fail;
	log_info("vm", "accelerator: %s; CPU template: %s (%s)", vm->accel->name, vm->tmpl->name,
		 vm->tmpl->description);
	vm->machine.cpu_template = vm->tmpl->name;
	ret = vm->accel->vm_init(&vm->machine);
	if (!ret)
		ret = console_open(&vm->console, vm, cfg->console, cfg->console_path);
	if (!ret)
		ret = vm_create_devices(vm);
	if (!ret)
		ret = vm_setup_cpus(vm, &cpuid);
	if (!ret && !rs)
		ret = vm_setup_boot(vm, cpuid, files);
	free(cpuid);
	cpuid = NULL;
	if (!ret && cfg->track_dirty_pages) {
		char err[160];

		ret = vm_dirty_log_start(vm, err, sizeof(err));
		if (ret)
			log_errx("vm", "--track-dirty-pages: %s", err);
	}
	if (ret)
		goto fail;
	free(files);
	metrics_inc(&vmm_metrics.vm_creates);
	vmm_metrics_accel(vm->accel->name);
	*out = vm;
	return 0;
fail:
	if (mem_fd >= 0)
		close(mem_fd);
	free(cpuid);
	free(files);
	metrics_inc(&vmm_metrics.vm_create_fails);
	vm_destroy(vm);
	return ret;
}

int vm_create(const struct vm_config *cfg, struct vm **out)
{
	return vm_build(cfg, NULL, out);
}

int vm_create_from(const struct vm_config *cfg, const struct vm_restore *rs, struct vm **out)
{
	struct vm_restore none = { .mem_fd = -1 };

	return vm_build(cfg, rs ? rs : &none, out);
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
	/* A machine without a backend (device unit tests) has no lines. */
	if (!vm->accel || !vm->machine.priv)
		return -ENODEV;
	return vm->accel->irq_line(&vm->machine, irq, level);
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
	int signo; /* the stop signal read, 0 if none */
};

static void vm_on_signal(void *opaque, uint32_t events)
{
	struct vm_signal_ctx *ctx = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(ctx->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("vm", "stopping on signal %u", si.ssi_signo);
		ctx->signo = (int)si.ssi_signo;
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
	vmm_metrics_instance_start();
	/*
	 * A restored machine may start paused: the pause is requested before
	 * any vCPU thread exists, so each parks before running guest code and
	 * vm_resume() lets them go.
	 */
	if (vm->start_paused) {
		pthread_mutex_lock(&vm->pause_lock);
		__atomic_store_n(&vm->pause_requested, true, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&vm->pause_lock);
		vm->start_paused = false;
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
		if (vm->vcpus[i].acc.thread_started) {
			pthread_join(vm->vcpus[i].acc.thread, NULL);
			vm->vcpus[i].acc.thread_started = false;
		}
		vcpu_log_exit_stats(&vm->vcpus[i]);
	}
	if (sfd >= 0) {
		event_loop_remove(vm->loop, sfd);
		close(sfd);
	}
	/*
	 * A stop signal read in the same loop turn as a guest reboot must
	 * not be lost (--on-reboot restart would go on forever).
	 */
	if (sctx.signo && vm->exit_status == VM_EXIT_REBOOT)
		return VM_EXIT_SIGNAL + sctx.signo;
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
	/* guest_mem_destroy frees the dirty bitmap; the backend is gone with vm_destroy. */
	if (vm->accel)
		vm->accel->vm_destroy(&vm->machine);
	guest_mem_destroy(&vm->mem);
	if (vm->exit_efd >= 0)
		close(vm->exit_efd);
	event_loop_free(vm->loop);
	pthread_mutex_destroy(&vm->exit_lock);
	pthread_cond_destroy(&vm->pause_cond);
	pthread_mutex_destroy(&vm->pause_lock);
	free(vm);
}
