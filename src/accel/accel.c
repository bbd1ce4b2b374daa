// SPDX-License-Identifier: Apache-2.0
/* Choosing the accelerator (accel.h): by name, or "auto". */
#include "accel/accel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

static const struct accel_ops *const backends[] = { &accel_kvm_ops, &accel_soft_ops };

const struct accel_ops *accel_find(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int accel_select(const char *name, const struct accel_ops **out, char *err, unsigned errlen)
{
	static bool logged;

	if (!name || strcmp(name, "auto") == 0) {
		*out = accel_kvm_available() ? &accel_kvm_ops : &accel_soft_ops;
		/* Once per process (--on-reboot restart builds a machine per boot). */
		if (!__atomic_exchange_n(&logged, true, __ATOMIC_RELAXED))
			log_info("accel", "--accel auto: %s",
				 *out == &accel_kvm_ops ? "kvm (/dev/kvm opens)" :
							  "soft (no usable /dev/kvm)");
		return 0;
	}
	*out = accel_find(name);
	if (!*out) {
		snprintf(err, errlen, "unknown accelerator '%s' (known: %s)", name, ACCEL_NAMES);
		return -EINVAL;
	}
	return 0;
}
