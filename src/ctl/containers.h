/* SPDX-License-Identifier: Apache-2.0 */
/*
 * osprey-ctl containers / list: virtual servers of both kinds. Containers
 * come from osprey-oci's state directory (through `osprey-oci list
 * --format json`, which knows how to tell their status); the VM is the
 * one behind the API socket, when one is given.
 */
#ifndef OSPREY_CTL_CONTAINERS_H
#define OSPREY_CTL_CONTAINERS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Whether argv0 names a subcommand of this file (containers, list). */
int ctl_containers_is_cmd(const char *name);

/* Runs `containers` or `list`; argv[0] is its name. sock: the API socket
 * or NULL. Returns the exit status. */
int ctl_containers_main(int argc, char **argv, const char *sock, long timeout_ms);

/*
 * Prints the rows of a runtime's `list --format json` answer (an array of
 * {id, pid, status, bundle, created}) to out, after a header unless
 * quiet; json: the array itself (each row with "kind": "container").
 * Returns the number of rows, or -EINVAL with a message in err for a
 * malformed answer. (Pure; unit tested.)
 */
int ctl_containers_print(FILE *out, const char *text, size_t len, int json, int header,
			 char *err, size_t errlen);

#endif
