/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Declarative device registration: each device file defines a const
 * descriptor and DEVICE_REGISTER()s it into the `osprey_devices` linker
 * section; vm_create() walks the section and hands each create() the
 * machine's device_env (hw/device_env.h). Adding a device never edits a
 * central list.
 */
#ifndef OSPREY_HW_DEVICE_H
#define OSPREY_HW_DEVICE_H

struct device_env;

struct device_desc {
	const char *name;
	/* Allocates state, registers bus ranges and a cleanup. -errno. */
	int (*create)(const struct device_env *env);
};

#define DEVICE_REGISTER(desc)                                                   \
	static const struct device_desc *const device_ptr_##desc                \
		__attribute__((used, section("osprey_devices"), aligned(sizeof(void *)))) = &desc

extern const struct device_desc *const __start_osprey_devices[];
extern const struct device_desc *const __stop_osprey_devices[];

#endif
