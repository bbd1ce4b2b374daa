// SPDX-License-Identifier: Apache-2.0
/*
 * The boot-marker MMIO page: a guest write prints a timestamped marker
 * (benchmarks parse it). Snapshots: it has no state (markers are printed
 * as they come), so it registers no state handler.
 */
#include "devices/boot_marker.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "hw/vmm_metrics.h"
#include "osprey_pv.h"

void boot_marker_record(const char *source, uint64_t value)
{
	char line[128];
	int n;

	vmm_metrics_boot_marker();
	/* Always printed (not subject to --log-level): benchmarks parse it. */
	n = snprintf(line, sizeof(line), "osprey: boot marker %llu from %s at %.1f ms\n",
		     (unsigned long long)value, source, log_ms_since_start());
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void boot_marker_mmio_write(void *opaque, uint64_t offset, const uint8_t *data,
				   unsigned len)
{
	uint64_t v = 0;

	(void)opaque;
	(void)offset;
	memcpy(&v, data, len > sizeof(v) ? sizeof(v) : len);
	boot_marker_record("mmio", v);
}

static const struct bus_ops boot_marker_ops = {
	.write = boot_marker_mmio_write,
};

static int boot_marker_create(const struct device_env *env)
{
	return bus_register(env->mmio, OSPREY_BOOT_MARKER_MMIO_BASE, OSPREY_BOOT_MARKER_MMIO_SIZE,
			    "boot-marker", &boot_marker_ops, NULL);
}

static const struct device_desc boot_marker_device = {
	.name = "boot-marker",
	.create = boot_marker_create,
};
DEVICE_REGISTER(boot_marker_device);
