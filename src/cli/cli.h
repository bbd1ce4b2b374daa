/* SPDX-License-Identifier: Apache-2.0 */
#ifndef OSPREY_CLI_CLI_H
#define OSPREY_CLI_CLI_H

#include <stddef.h>

#include "vmm/config.h"

#define OSPREY_VERSION "0.1.0"

/*
 * Parses `osprey run` arguments into cfg. Returns 0, 1 when --help was
 * printed, or -EINVAL with a message in err.
 */
int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen);
void cli_run_usage(void);

int cmd_run(int argc, char **argv);

/* `osprey --api-sock PATH ...` (cli/vmm.c): the Firecracker-style front end. */
#define API_ERR_BUF 512
int cmd_vmm(int argc, char **argv);
void cli_vmm_usage(void);

/* `osprey snapshot merge|verify` (cli/snapshot.c). */
int cmd_snapshot(int argc, char **argv);
void cli_snapshot_usage(void);

#endif
