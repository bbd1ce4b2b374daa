/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run-time logger configuration (PUT /logger, osprey --log-level): the
 * level, and where osprey's log lines go.
 */
#ifndef OSPREY_BASE_LOG_CONFIG_H
#define OSPREY_BASE_LOG_CONFIG_H

#include <stddef.h>

#include "base/log.h"

/*
 * Firecracker's level names as well as osprey's, case-insensitive:
 * Error, Warning/Warn, Info, Debug, Trace (= debug), Off (= error: osprey
 * always reports errors). -EINVAL otherwise.
 */
int log_config_parse_level(const char *s, enum log_level *out);

/*
 * level < 0 leaves the level. path (a file, created if missing and
 * appended to, or a named pipe that has a reader) replaces stderr for
 * everything osprey logs (file descriptor 2 is redirected, so sanitizer
 * reports go there too); NULL keeps the current destination.
 * -errno with a message in err.
 */
int log_configure(int level, const char *path, char *err, size_t errlen);

#endif
