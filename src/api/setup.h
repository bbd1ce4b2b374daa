/* SPDX-License-Identifier: Apache-2.0 */
/* Setting up an API context from the process's front end (cli/vmm.c). */
#ifndef OSPREY_API_SETUP_H
#define OSPREY_API_SETUP_H

#include <stddef.h>

struct api_ctx;

/* The id GET / reports (osprey --id). -ENOMEM or -EINVAL (empty). */
int api_ctx_set_instance_id(struct api_ctx *ctx, const char *id);

/*
 * Applies a Firecracker configuration file (the JSON of --config-file:
 * "boot-source", "machine-config", "drives", "network-interfaces",
 * "vsock", "balloon", "entropy", "serial", "logger", "metrics", ...)
 * through the same request handlers as the API, then InstanceStart.
 * -EINVAL with a message naming the part at fault.
 */
int api_config_apply(struct api_ctx *ctx, const char *json, size_t len, char *err, size_t errlen);

#endif
