/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine's dirty page log (docs/snapshots.md): guest RAM pages
 * written since the last collection, by the guest (through the
 * accelerator's dirty_log/dirty_sync ops) and by host code (devices,
 * through guest_mem_written). Used by Diff snapshots and by migration.
 */
#ifndef OSPREY_VMM_DIRTY_H
#define OSPREY_VMM_DIRTY_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/*
 * Starts logging with every page clean (a no-op when already logging):
 * guest_mem_dirty_start, then the backend's dirty_log(true). -ENOTSUP
 * when the backend cannot log, -errno; message in err. Sets vm->dirty_logging.
 */
int vm_dirty_log_start(struct vm *vm, char *err, size_t errlen);
/* Stops logging and frees the bitmap (vCPUs parked or not started). */
void vm_dirty_log_stop(struct vm *vm);

/* Words of the bitmap of vm's RAM (one bit per 4 KiB page, mapping order). */
size_t vm_dirty_words(const struct vm *vm);

/*
 * With every vCPU parked: the backend's dirty_sync, then moves the
 * bitmap into out (vm_dirty_words() words) and restarts it clean.
 * *npages: the number of dirty pages. 0 or -errno with a message
 * (-EINVAL when not logging, -ENOTSUP when the backend cannot sync).
 */
int vm_dirty_collect(struct vm *vm, uint64_t *out, size_t nwords, uint64_t *npages, char *err,
		     size_t errlen);

/*
 * Puts pages collected by vm_dirty_collect back into the log (a
 * snapshot or migration round that failed must not lose them).
 */
void vm_dirty_putback(struct vm *vm, const uint64_t *bits, size_t nwords);

#endif
