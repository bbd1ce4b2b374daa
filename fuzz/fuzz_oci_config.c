// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci's config.json parser (src/oci/config.c) on arbitrary bytes:
 * it must never crash or leak, a failure must leave a message, and a
 * success must hold the invariants the runtime relies on (process.args
 * non-empty and NULL-terminated, absolute mount destinations, known
 * namespace kinds listed once, valid id maps). Also the exec --process
 * and update --resources entry points.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config cfg;
	struct oci_process proc;
	struct sb_resources res;
	struct sb_err err;
	const char *text = (const char *)data;

	err.msg[0] = '\0';
	if (oci_config_parse(text, size, &cfg, &err) < 0) {
		if (!err.msg[0])
			abort();
	} else {
		if (!cfg.root_path || !cfg.root_path[0])
			abort();
		if (cfg.has_process && (cfg.process.n_args == 0 || cfg.process.args[cfg.process.n_args] != NULL ||
					!cfg.process.cwd || cfg.process.cwd[0] != '/'))
			abort();
		for (size_t i = 0; i < cfg.n_mounts; i++)
			if (cfg.mounts[i].destination[0] != '/')
				abort();
		uint32_t seen = 0;
		for (size_t i = 0; i < cfg.n_namespaces; i++) {
			int k = cfg.namespaces[i].kind;
			if (k < 0 || k >= SB_NS_COUNT || (seen & (1u << k)))
				abort();
			seen |= 1u << k;
		}
		for (size_t i = 0; i < cfg.n_uid_mappings; i++)
			if (cfg.uid_mappings[i].size == 0)
				abort();
	}
	oci_config_free(&cfg);

	if (oci_process_parse_json(text, size, &proc, &err) == 0 && proc.n_args == 0)
		abort();
	oci_process_free(&proc);
	oci_resources_parse_json(text, size, &res, &err);
	sb_resources_free(&res);
	return 0;
}
