// SPDX-License-Identifier: Apache-2.0
/*
 * Run-time disk and interface updates (vm.h). PLACEHOLDER until the
 * rate-limiter work lands: answers -ENOSYS with a message.
 */
#include <errno.h>
#include <stdio.h>

#include "vmm/vm.h"

int vm_update_disk(struct vm *vm, const char *id, const char *path_on_host,
		   const struct rate_limiter_config *rl, char *err, size_t errlen)
{
	(void)vm;
	(void)id;
	(void)path_on_host;
	(void)rl;
	snprintf(err, errlen, "run-time drive updates are not implemented yet");
	return -ENOSYS;
}

int vm_update_net(struct vm *vm, const char *id, const struct rate_limiter_config *rx,
		  const struct rate_limiter_config *tx, char *err, size_t errlen)
{
	(void)vm;
	(void)id;
	(void)rx;
	(void)tx;
	snprintf(err, errlen, "run-time interface updates are not implemented yet");
	return -ENOSYS;
}
