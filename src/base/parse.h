/* SPDX-License-Identifier: Apache-2.0 */
#ifndef OSPREY_BASE_PARSE_H
#define OSPREY_BASE_PARSE_H

#include <stdint.h>

/*
 * "512", "512M", "512MiB", "2G", "1048576K", "64k": a size in bytes.
 * A bare number means MiB when default_unit_shift is 20. Returns
 * -EINVAL on syntax errors and -ERANGE on overflow.
 */
int parse_size(const char *s, unsigned default_unit_shift, uint64_t *out);

/* Decimal or 0x-prefixed unsigned integer, the whole string. */
int parse_u64(const char *s, uint64_t *out);

#endif
