/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot-time marker: a guest write to the marker MMIO page (or the PV port
 * command) is logged with the milliseconds since osprey's process start.
 * Benchmarks read that line ("boot marker ... at N ms").
 */
#ifndef OSPREY_DEVICES_BOOT_MARKER_H
#define OSPREY_DEVICES_BOOT_MARKER_H

#include <stdint.h>

void boot_marker_record(const char *source, uint64_t value);

#endif
