// SPDX-License-Identifier: Apache-2.0
/*
 * --config-file: Firecracker's configuration file. Each section becomes
 * the API request that configures it (PUT /boot-source with the section
 * as body, one PUT /drives/{drive_id} per drive, ...), handled by
 * api_handle() like any other request, so the file obeys exactly the API's
 * rules. Null sections are skipped (so GET /vm/config's output is a valid
 * file). The last step is InstanceStart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "api/setup.h"

int api_ctx_set_instance_id(struct api_ctx *ctx, const char *id)
{
	char *copy;

	if (!id || !*id)
		return -EINVAL;
	copy = strdup(id);
	if (!copy)
		return -ENOMEM;
	free(ctx->instance_id);
	ctx->instance_id = copy;
	return 0;
}

enum section_kind {
	SECTION_OBJECT,	 /* PUT path with the section as body */
	SECTION_ARRAY,	 /* one PUT path/{id} per element, id from id_key */
};

static const struct {
	const char *key;
	const char *path;
	enum section_kind kind;
	const char *id_key;
} sections[] = {
	/* In this order: logging first, so the rest is logged as configured. */
	{ "logger", "/logger", SECTION_OBJECT, NULL },
	{ "metrics", "/metrics", SECTION_OBJECT, NULL },
	{ "machine-config", "/machine-config", SECTION_OBJECT, NULL },
	{ "cpu-config", "/cpu-config", SECTION_OBJECT, NULL },
	{ "boot-source", "/boot-source", SECTION_OBJECT, NULL },
	{ "drives", "/drives", SECTION_ARRAY, "drive_id" },
	{ "pmem", "/pmem", SECTION_ARRAY, "id" },
	{ "network-interfaces", "/network-interfaces", SECTION_ARRAY, "iface_id" },
	{ "vsock", "/vsock", SECTION_OBJECT, NULL },
	{ "balloon", "/balloon", SECTION_OBJECT, NULL },
	{ "entropy", "/entropy", SECTION_OBJECT, NULL },
	{ "serial", "/serial", SECTION_OBJECT, NULL },
	{ "mmds-config", "/mmds/config", SECTION_OBJECT, NULL },
	{ "memory-hotplug", "/hotplug/memory", SECTION_OBJECT, NULL },
};

/* One PUT; on failure the fault message goes to err. */
static int put(struct api_ctx *ctx, const char *what, const char *path, json_t *body, char *err,
	       size_t errlen)
{
	struct api_response resp = { 0 };
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *fault;
	int ret = 0;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -ENOMEM;
	}
	api_handle(ctx, "PUT", path, text, strlen(text), &resp);
	free(text);
	if (resp.status >= 300) {
		fault = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
		snprintf(err, errlen, "%s: %s", what,
			 json_string_value(json_object_get(fault, "fault_message")) ?
				 json_string_value(json_object_get(fault, "fault_message")) :
				 "failed");
		json_decref(fault);
		ret = -EINVAL;
	}
	free(resp.body);
	return ret;
}

static int apply_array(struct api_ctx *ctx, const char *key, const char *base, const char *id_key,
		       json_t *arr, char *err, size_t errlen)
{
	char what[96], path[160];
	size_t i;
	json_t *el;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "\"%s\" must be an array", key);
		return -EINVAL;
	}
	json_array_foreach(arr, i, el)
	{
		const char *id = json_string_value(json_object_get(el, id_key));

		snprintf(what, sizeof(what), "%s[%zu]", key, i);
		if (!json_is_object(el) || !id || !*id || strlen(id) > API_ID_MAX) {
			snprintf(err, errlen, "%s: must be an object with a string \"%s\" of 1 to %d characters",
				 what, id_key, API_ID_MAX);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/%s", base, id);
		if (put(ctx, what, path, el, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int api_config_apply(struct api_ctx *ctx, const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *start = NULL, *v;
	const char *key;
	int ret = -EINVAL;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "malformed JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			 jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the configuration must be a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		size_t i;

		for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (strcmp(key, sections[i].key) == 0)
				break;
		if (i == sizeof(sections) / sizeof(sections[0])) {
			snprintf(err, errlen, "unknown section \"%.64s\"", key);
			goto out;
		}
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		v = json_object_get(root, sections[i].key);
		if (!v || json_is_null(v))
			continue;
		if (sections[i].kind == SECTION_ARRAY) {
			if (apply_array(ctx, sections[i].key, sections[i].path, sections[i].id_key, v,
					err, errlen))
				goto out;
		} else if (put(ctx, sections[i].key, sections[i].path, v, err, errlen)) {
			goto out;
		}
	}
	start = json_pack("{s:s}", "action_type", "InstanceStart");
	if (!start || put(ctx, "InstanceStart", "/actions", start, err, errlen))
		goto out;
	ret = 0;
out:
	json_decref(start);
	json_decref(root);
	return ret;
}
