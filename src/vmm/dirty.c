// SPDX-License-Identifier: Apache-2.0
/*
 * The machine's dirty page log: the bitmap in guest_mem (hw/memory.h)
 * plus the accelerator's part of logging (accel ops dirty_log and
 * dirty_sync). See vmm/dirty.h.
 */
#include "vmm/dirty.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/vm.h"

int vm_dirty_log_start(struct vm *vm, char *err, size_t errlen)
{
	int ret;

	if (vm->dirty_logging)
		return 0;
	if (!vm->accel->dirty_log || !vm->accel->dirty_sync) {
		snprintf(err, errlen, "the %s accelerator cannot log dirty pages (yet)",
			 vm->accel->name);
		return -ENOTSUP;
	}
	ret = guest_mem_dirty_start(&vm->mem);
	if (ret) {
		snprintf(err, errlen, "out of memory for the dirty page bitmap");
		return ret;
	}
	ret = vm->accel->dirty_log(&vm->machine, true);
	if (ret) {
		guest_mem_dirty_stop(&vm->mem);
		snprintf(err, errlen, "the %s accelerator cannot start logging dirty pages: %s",
			 vm->accel->name, strerror(-ret));
		return ret;
	}
	vm->dirty_logging = true;
	return 0;
}

void vm_dirty_log_stop(struct vm *vm)
{
	if (!vm->dirty_logging)
		return;
	if (vm->accel->dirty_log)
		vm->accel->dirty_log(&vm->machine, false);
	guest_mem_dirty_stop(&vm->mem);
	vm->dirty_logging = false;
}

size_t vm_dirty_words(const struct vm *vm)
{
	size_t pages = (size_t)(vm->mem.mapping_size >> GUEST_PAGE_SHIFT);

	return (pages + 63) / 64;
}

int vm_dirty_collect(struct vm *vm, uint64_t *out, size_t nwords, uint64_t *npages, char *err,
		     size_t errlen)
{
	int ret;

	if (!vm->dirty_logging || !vm->mem.dirty) {
		snprintf(err, errlen, "dirty page tracking is off");
		return -EINVAL;
	}
	if (!vm->accel->dirty_sync) {
		snprintf(err, errlen, "the %s accelerator cannot log dirty pages (yet)",
			 vm->accel->name);
		return -ENOTSUP;
	}
	ret = vm->accel->dirty_sync(&vm->machine);
	if (ret) {
		snprintf(err, errlen, "cannot read the dirty page log: %s", strerror(-ret));
		return ret;
	}
	*npages = guest_mem_dirty_collect(&vm->mem, out, nwords);
	return 0;
}

void vm_dirty_putback(struct vm *vm, const uint64_t *bits, size_t nwords)
{
	if (!vm->mem.dirty)
		return;
	if (nwords > vm->mem.dirty_words)
		nwords = vm->mem.dirty_words;
	for (size_t i = 0; i < nwords; i++)
		if (bits[i])
			__atomic_fetch_or(&vm->mem.dirty[i], bits[i], __ATOMIC_RELAXED);
}
