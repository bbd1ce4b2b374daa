// SPDX-License-Identifier: Apache-2.0
/*
 * The KVM backend's dirty log (accel ops dirty_log/dirty_sync, for diff
 * snapshots and migration). dirty_log(true) registers every memory slot
 * again with KVM_MEM_LOG_DIRTY_PAGES (slot i is region i of m->mem, in
 * mapping order; KVM changes only the flags and write-protects the
 * slot); dirty_sync folds KVM_GET_DIRTY_LOG of each slot, which also
 * clears KVM's log and write-protects the pages again, into m->mem->dirty
 * (bit = mapping offset / 4096, hw/memory.h) with atomic ORs; host-side
 * writes (devices, the loader) are already marked there by
 * guest_mem_written. No optional capability is needed (the flag is as old
 * as KVM_CAP_USER_MEMORY); KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 and the dirty
 * ring are not used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm/kvm.h"
#include "accel/kvm/state.h"
#include "base/log.h"
#include "hw/memory.h"

static struct kvm_vm *kvm_of(const struct accel_machine *m)
{
	return m->priv;
}

int kvm_dirty_log(struct accel_machine *m, bool enable)
{
	struct kvm_vm *k = kvm_of(m);

	if (!k || k->vm_fd < 0)
		return -ENODEV;
	if (k->dirty_logging == enable)
		return 0;
	return kvm_set_slots(m, enable);
}

int kvm_dirty_sync(struct accel_machine *m)
{
	struct kvm_vm *k = kvm_of(m);
	struct guest_mem *mem = m->mem;
	uint64_t *bits = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!k || k->vm_fd < 0)
		return -ENODEV;
	if (!k->dirty_logging) {
		log_errx("kvm", "dirty_sync without dirty logging armed");
		return -EINVAL;
	}
	for (unsigned i = 0; i < mem->nregions; i++) {
		const struct guest_region *r = &mem->regions[i];
		uint64_t pages = r->size >> GUEST_PAGE_SHIFT, off;
		size_t words = (size_t)((pages + 63) / 64);
		struct kvm_dirty_log log;

		if (!pages)
			continue;
		if (words > cap) {
			uint64_t *n = realloc(bits, words * sizeof(*bits));

			if (!n) {
				ret = -ENOMEM;
				break;
			}
			bits = n;
			cap = words;
		}
		memset(bits, 0, words * sizeof(*bits));
		memset(&log, 0, sizeof(log));
		log.slot = i;
		log.dirty_bitmap = bits;
		if (ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0) {
			ret = -errno;
			log_err("kvm", "KVM_GET_DIRTY_LOG slot %u", i);
			break;
		}
		if (!mem->dirty || !guest_mem_offset(mem, r->gpa, &off))
			continue; /* nobody collects: the log is cleared all the same */
		kvm_dirty_fold(mem->dirty, mem->dirty_words, off >> GUEST_PAGE_SHIFT, bits, pages);
	}
	free(bits);
	return ret;
}
