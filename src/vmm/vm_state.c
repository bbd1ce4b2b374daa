// SPDX-License-Identifier: Apache-2.0
/*
 * The machine's state without its RAM (vmm/vm_state.h): sections
 * "config", "machine", "vcpu.N", "platform" and one per device handler,
 * written with the vCPUs parked and read into a machine built by
 * vm_create_from() before it ever ran. Everything read is hostile until
 * checked: names, versions, counts and each section's length.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "base/log.h"
#include "irqchip/platform_state.h"
#include "vmm/vm.h"

#define VM_MACHINE_STATE_VERSION 1
/* Longest CPU template name a "machine" section may carry. */
#define VM_TEMPLATE_NAME_MAX 64
/* vCPU sections a state may name (above MPTABLE_MAX_CPUS). */
#define VM_STATE_MAX_VCPUS 256

/*
 * Sections that belong to the container around the machine's state
 * (snapshot/: "memory") and that vm_state_load leaves to it.
 */
static const char *const container_sections[] = { "memory" };

/* Parked (vm_pause) or never started: nothing runs guest code. */
static bool vm_quiet(struct vm *vm)
{
	bool started = false;

	if (__atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE))
		return true;
	for (unsigned i = 0; i < vm->ncpus; i++)
		started |= vm->vcpus[i].acc.thread_started;
	return !started;
}

void vm_state_quiesce(struct vm *vm, bool stop)
{
	for (unsigned i = 0; i < vm->nstate_handlers; i++)
		if (vm->state_handlers[i].ops->quiesce)
			vm->state_handlers[i].ops->quiesce(vm->state_handlers[i].opaque, stop);
}

static int save_vcpus(struct vm *vm, struct state_writer *w, char *err, size_t errlen)
{
	struct x86_cpu_state *s = malloc(sizeof(*s));
	char name[STATE_NAME_MAX + 1];
	int ret = 0;

	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->ncpus && !ret; i++) {
		memset(s, 0, sizeof(*s));
		ret = vm->accel->vcpu_get_state(&vm->vcpus[i].acc, s);
		if (ret) {
			snprintf(err, errlen, "cannot read the state of vcpu%u: %s", i,
				 strerror(-ret));
			break;
		}
		snprintf(name, sizeof(name), VM_STATE_VCPU_FMT, i);
		state_section_begin(w, name, X86_CPU_STATE_VERSION);
		x86_cpu_state_write(w, s);
		state_section_end(w);
	}
	free(s);
	return ret;
}

int vm_state_save(struct vm *vm, struct state_writer *w, char *err, size_t errlen)
{
	struct x86_platform_state *ps;
	int ret;

	if (!vm_quiet(vm)) {
		snprintf(err, errlen, "the machine must be paused");
		return -EBUSY;
	}
	if (!vm->accel->platform_save) {
		snprintf(err, errlen, "the %s accelerator cannot save its platform state (yet)",
			 vm->accel->name);
		return -ENOTSUP;
	}
	vm_config_write(w, vm->cfg);

	state_section_begin(w, "machine", VM_MACHINE_STATE_VERSION);
	state_put_str(w, vm->tmpl->name);
	state_put_u32(w, vm->ncpus);
	state_put_u64(w, vm->mem.ram_size);
	state_section_end(w);

	ret = save_vcpus(vm, w, err, errlen);
	if (ret)
		return ret;

	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ret = vm->accel->platform_save(&vm->machine, ps);
	if (ret) {
		snprintf(err, errlen, "cannot read the platform state: %s", strerror(-ret));
		free(ps);
		return ret;
	}
	state_section_begin(w, "platform", X86_PLATFORM_STATE_VERSION);
	x86_platform_state_write(w, ps);
	state_section_end(w);
	free(ps);

	for (unsigned i = 0; i < vm->nstate_handlers; i++) {
		const struct vm_state_handler *h = &vm->state_handlers[i];

		state_section_begin(w, h->name, h->ops->version);
		ret = h->ops->save(h->opaque, w);
		state_section_end(w);
		if (ret) {
			snprintf(err, errlen, "cannot save the state of %s: %s", h->name,
				 strerror(-ret));
			return ret;
		}
	}
	ret = state_writer_error(w);
	if (ret)
		snprintf(err, errlen, "cannot build the machine state: %s", strerror(-ret));
	return ret;
}

/* Which section a name is: 0 config/machine/platform/container, 1 vcpu, 2 handler, -1 unknown. */
static int classify(const struct vm *vm, const char *name, unsigned *index)
{
	unsigned n;
	int len = 0;

	if (!strcmp(name, "config") || !strcmp(name, "machine") || !strcmp(name, "platform"))
		return 0;
	for (size_t i = 0; i < sizeof(container_sections) / sizeof(container_sections[0]); i++)
		if (!strcmp(name, container_sections[i]))
			return 0;
	if (sscanf(name, "vcpu.%u%n", &n, &len) == 1 && (size_t)len == strlen(name) &&
	    name[5] >= '0' && name[5] <= '9') {
		char canon[STATE_NAME_MAX + 1];

		snprintf(canon, sizeof(canon), VM_STATE_VCPU_FMT, n);
		if (strcmp(canon, name) != 0 || n >= vm->ncpus)
			return -1;
		*index = n;
		return 1;
	}
	for (unsigned i = 0; i < vm->nstate_handlers; i++) {
		if (!strcmp(name, vm->state_handlers[i].name)) {
			*index = i;
			return 2;
		}
	}
	return -1;
}

/* Every top-level section is known and appears once. */
static int check_sections(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	struct state_reader it = *r, sub;
	char name[STATE_NAME_MAX + 1];
	char seen_fixed[4][STATE_NAME_MAX + 1];
	unsigned nfixed = 0, idx = 0;
	uint64_t seen_vcpu[(VM_STATE_MAX_VCPUS + 63) / 64] = { 0 };
	uint32_t seen_dev = 0, version;
	int ret;

	it.pos = 0;
	while ((ret = state_next_section(&it, name, &version, &sub)) == 1) {
		int kind = classify(vm, name, &idx);
		bool dup = false;

		if (kind < 0) {
			snprintf(err, errlen,
				 "the state has a section '%s' that this machine does not have", name);
			return -EBADMSG;
		}
		if (kind == 0) {
			for (unsigned i = 0; i < nfixed; i++)
				dup |= !strcmp(seen_fixed[i], name);
			if (!dup && nfixed < 4)
				snprintf(seen_fixed[nfixed++], sizeof(seen_fixed[0]), "%s", name);
		} else if (kind == 1) {
			if (idx >= VM_STATE_MAX_VCPUS) {
				snprintf(err, errlen, "the state has too many vCPUs");
				return -EBADMSG;
			}
			dup = seen_vcpu[idx / 64] & (1ULL << (idx % 64));
			seen_vcpu[idx / 64] |= 1ULL << (idx % 64);
		} else {
			dup = seen_dev & (1u << idx);
			seen_dev |= 1u << idx;
		}
		if (dup) {
			snprintf(err, errlen, "the state has section '%s' twice", name);
			return -EBADMSG;
		}
	}
	if (ret < 0) {
		snprintf(err, errlen, "malformed machine state: %s", state_reader_msg(&it));
		return -EBADMSG;
	}
	return 0;
}

/* Finds section name of version `want` (or fails with a message). */
static int find(const struct state_reader *r, const char *name, uint32_t want,
		struct state_reader *sub, char *err, size_t errlen)
{
	uint32_t version;
	int ret = state_find_section(r, name, &version, sub);

	if (ret == -ENOENT) {
		snprintf(err, errlen, "the state has no section '%s'", name);
		return -EBADMSG;
	}
	if (ret) {
		snprintf(err, errlen, "malformed machine state looking for section '%s'", name);
		return -EBADMSG;
	}
	if (version != want) {
		snprintf(err, errlen, "section '%s' is version %u, this osprey reads version %u",
			 name, version, want);
		return -EBADMSG;
	}
	return 0;
}

/* A sub-reader that must be fine and fully read. */
static int finished(struct state_reader *sub, const char *name, char *err, size_t errlen)
{
	if (state_reader_error(sub) || state_reader_finish(sub, name)) {
		snprintf(err, errlen, "section '%s': %s", name, state_reader_msg(sub));
		return -EBADMSG;
	}
	return 0;
}

static int load_machine(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	struct state_reader sub;
	char tmpl[VM_TEMPLATE_NAME_MAX];
	uint32_t ncpus;
	uint64_t ram;
	int ret = find(r, "machine", VM_MACHINE_STATE_VERSION, &sub, err, errlen);

	if (ret)
		return ret;
	if (!state_get_str(&sub, tmpl, sizeof(tmpl)) && !state_reader_error(&sub))
		state_fail(&sub, "no CPU template name");
	ncpus = state_get_u32(&sub);
	ram = state_get_u64(&sub);
	ret = finished(&sub, "machine", err, errlen);
	if (ret)
		return ret;
	if (strcmp(tmpl, vm->tmpl->name) != 0) {
		snprintf(err, errlen, "snapshot was made with CPU template %s, this machine uses %s",
			 tmpl, vm->tmpl->name);
		return -EINVAL;
	}
	if (ncpus != vm->ncpus) {
		snprintf(err, errlen, "the state has %u vCPUs, this machine has %u", ncpus,
			 vm->ncpus);
		return -EINVAL;
	}
	if (ram != vm->mem.ram_size) {
		snprintf(err, errlen, "the state is of %llu bytes of RAM, this machine has %llu",
			 (unsigned long long)ram, (unsigned long long)vm->mem.ram_size);
		return -EINVAL;
	}
	return 0;
}

static int load_vcpus(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	struct x86_cpu_state *s = malloc(sizeof(*s));
	char name[STATE_NAME_MAX + 1];
	struct state_reader sub;
	int ret = 0;

	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->ncpus && !ret; i++) {
		snprintf(name, sizeof(name), VM_STATE_VCPU_FMT, i);
		ret = find(r, name, X86_CPU_STATE_VERSION, &sub, err, errlen);
		if (ret)
			break;
		memset(s, 0, sizeof(*s));
		x86_cpu_state_read(&sub, s);
		ret = finished(&sub, name, err, errlen);
		if (ret)
			break;
		ret = vm->accel->vcpu_set_state(&vm->vcpus[i].acc, s);
		if (ret)
			snprintf(err, errlen, "vcpu%u: the %s accelerator refuses the state: %s", i,
				 vm->accel->name, strerror(-ret));
	}
	free(s);
	return ret;
}

static int load_platform(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	struct x86_platform_state *ps;
	struct state_reader sub;
	int ret;

	if (!vm->accel->platform_load) {
		snprintf(err, errlen, "the %s accelerator cannot load a platform state (yet)",
			 vm->accel->name);
		return -ENOTSUP;
	}
	ret = find(r, "platform", X86_PLATFORM_STATE_VERSION, &sub, err, errlen);
	if (ret)
		return ret;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	x86_platform_state_read(&sub, ps);
	ret = finished(&sub, "platform", err, errlen);
	if (!ret) {
		ret = vm->accel->platform_load(&vm->machine, ps);
		if (ret)
			snprintf(err, errlen, "the %s accelerator refuses the platform state: %s",
				 vm->accel->name, strerror(-ret));
	}
	free(ps);
	return ret;
}

static int load_devices(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->nstate_handlers; i++) {
		const struct vm_state_handler *h = &vm->state_handlers[i];
		struct state_reader sub;
		char derr[160] = "";
		int ret = find(r, h->name, h->ops->version, &sub, err, errlen);

		if (ret)
			return ret;
		ret = h->ops->load(h->opaque, &sub, derr, sizeof(derr));
		if (ret) {
			snprintf(err, errlen, "%s: %s", h->name,
				 *derr ? derr : state_reader_error(&sub) ? state_reader_msg(&sub) :
									   strerror(-ret));
			return ret;
		}
		ret = finished(&sub, h->name, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int vm_state_load(struct vm *vm, const struct state_reader *r, char *err, size_t errlen)
{
	int ret;

	if (!vm_quiet(vm)) {
		snprintf(err, errlen, "the machine is running");
		return -EBUSY;
	}
	ret = check_sections(vm, r, err, errlen);
	if (!ret)
		ret = load_machine(vm, r, err, errlen);
	if (!ret)
		ret = load_vcpus(vm, r, err, errlen);
	if (!ret)
		ret = load_platform(vm, r, err, errlen);
	if (!ret)
		ret = load_devices(vm, r, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < vm->nstate_handlers; i++)
		if (vm->state_handlers[i].ops->resumed)
			vm->state_handlers[i].ops->resumed(vm->state_handlers[i].opaque);
	return 0;
}
