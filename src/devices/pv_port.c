// SPDX-License-Identifier: Apache-2.0
/*
 * osprey's paravirtual control port (guest/abi/osprey_pv.h): a 32-bit
 * write of a command to port 0x700 powers off, requests a reboot or
 * records a boot marker. The default guest kernel's power-off patch uses
 * it; so do the test guests.
 *
 * Snapshots: the port has no state (each write is a whole command acted
 * on at once), so it registers no state handler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "devices/boot_marker.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "osprey_pv.h"

static void pv_port_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	const struct device_env *env = opaque;
	uint32_t cmd;

	if (offset != 0 || len != 4) {
		log_debug("pv", "ignored %u-byte write at offset %llu", len,
			  (unsigned long long)offset);
		return;
	}
	memcpy(&cmd, data, 4);
	switch (cmd) {
	case OSPREY_PV_POWEROFF:
		log_info("pv", "guest powered off");
		env->request_exit(env->machine, DEVICE_EXIT_POWEROFF);
		break;
	case OSPREY_PV_REBOOT:
		log_info("pv", "guest requested a reboot");
		env->request_exit(env->machine, DEVICE_EXIT_REBOOT);
		break;
	case OSPREY_PV_BOOT_MARKER:
		boot_marker_record("pv-port", cmd);
		break;
	default:
		log_debug("pv", "unknown command 0x%08x", cmd);
		break;
	}
}

static const struct bus_ops pv_port_ops = {
	.write = pv_port_write,
};

static int pv_port_create(const struct device_env *env)
{
	/* The bus handlers only read env: the cast drops const for bus_register. */
	return bus_register(env->pio, OSPREY_PV_PORT, OSPREY_PV_PORT_SIZE, "osprey-pv", &pv_port_ops,
			    (void *)(uintptr_t)env);
}

static const struct device_desc pv_port_device = {
	.name = "osprey-pv",
	.create = pv_port_create,
};
DEVICE_REGISTER(pv_port_device);
