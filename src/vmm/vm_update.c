// SPDX-License-Identifier: Apache-2.0
/*
 * Run-time disk and interface updates (vm.h): PATCH /drives/{id} and
 * PATCH /network-interfaces/{id}. The devices do the work under their
 * own lock (virtio_blk_update, virtio_net_update); this file finds them
 * by id in vm->disk_devs / vm->net_devs, which are filled once at
 * creation and never change while the machine exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio/blk.h"
#include "virtio/net.h"
#include "vmm/vm.h"

static struct virtio_dev *find_disk(struct vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->cfg->ndisks && i < VM_MAX_DISKS; i++)
		if (vm->disk_devs[i] && strcmp(virtio_blk_name(vm->disk_devs[i]), id) == 0)
			return vm->disk_devs[i];
	return NULL;
}

static struct virtio_dev *find_net(struct vm *vm, const char *id)
{
	for (unsigned i = 0; i < vm->cfg->nnets && i < VM_MAX_NETS; i++)
		if (vm->net_devs[i] && strcmp(virtio_net_name(vm->net_devs[i]), id) == 0)
			return vm->net_devs[i];
	return NULL;
}

int vm_update_disk(struct vm *vm, const char *id, const char *path_on_host,
		   const struct rate_limiter_config *rl, char *err, size_t errlen)
{
	struct virtio_dev *d;

	if (!vm || !id) {
		snprintf(err, errlen, "no machine or no drive id");
		return -EINVAL;
	}
	d = find_disk(vm, id);
	if (!d) {
		snprintf(err, errlen, "no drive with id '%s'", id);
		return -ENOENT;
	}
	if (path_on_host && !*path_on_host) {
		snprintf(err, errlen, "drive '%s': path_on_host is empty", id);
		return -EINVAL;
	}
	return virtio_blk_update(d, path_on_host, rl, err, errlen);
}

int vm_update_net(struct vm *vm, const char *id, const struct rate_limiter_config *rx,
		  const struct rate_limiter_config *tx, char *err, size_t errlen)
{
	struct virtio_dev *d;

	if (!vm || !id) {
		snprintf(err, errlen, "no machine or no interface id");
		return -EINVAL;
	}
	d = find_net(vm, id);
	if (!d) {
		snprintf(err, errlen, "no network interface with id '%s'", id);
		return -ENOENT;
	}
	virtio_net_update(d, rx, tx);
	return 0;
}
