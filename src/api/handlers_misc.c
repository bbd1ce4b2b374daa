// SPDX-License-Identifier: Apache-2.0
/*
 * /logger, /metrics, the MMDS data store, and the paths of the contract
 * that osprey does not implement (400 with the reason).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "base/log_config.h"

void api_put_logger(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *level = NULL, *path = NULL, *module = NULL;
	int show_level = 0, show_origin = 0;
	struct api_logger_config lc = { .level = -1 };
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s?s, s?s, s?b, s?b, s?s}", "level", &level,
		       "log_path", &path, "show_level", &show_level, "show_log_origin",
		       &show_origin, "module", &module))
		return;
	enum log_level lvl;

	if (level && log_config_parse_level(level, &lvl)) {
		api_reply_fault(resp, 400,
				"PUT /logger: level '%.32s' is not one of Error, Warning, Info, Debug, Trace, Off",
				level);
		return;
	}
	if (level)
		lc.level = (int)lvl;
	if (path && !*path) {
		api_reply_fault(resp, 400, "PUT /logger: log_path is empty");
		return;
	}
	lc.log_path = path;
	lc.show_level = show_level;
	lc.show_log_origin = show_origin;
	if (ctx->be && ctx->be->configure_logger(ctx->opaque, &lc, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PUT /logger: %s", err);
		return;
	}
	json_decref(ctx->logger);
	ctx->logger = json_deep_copy(req->body);
	api_reply_empty(resp);
}

void api_put_metrics(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *path = NULL, *key;
	int emit_id = 0;
	json_t *props = NULL, *v;
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s:s, s?b, s?o}", "metrics_path", &path, "emit_id",
		       &emit_id, "properties", &props))
		return;
	if (!*path) {
		api_reply_fault(resp, 400, "PUT /metrics: metrics_path is empty");
		return;
	}
	if (props) {
		if (!json_is_object(props)) {
			api_reply_fault(resp, 400, "PUT /metrics: properties must be an object of strings");
			return;
		}
		json_object_foreach(props, key, v)
		{
			if (!json_is_string(v)) {
				api_reply_fault(resp, 400, "PUT /metrics: properties.%.64s must be a string",
						key);
				return;
			}
		}
	}
	if (ctx->metrics) {
		api_reply_fault(resp, 400, "PUT /metrics: the metrics system is already initialised");
		return;
	}
	if (ctx->be && ctx->be->init_metrics(ctx->opaque, path, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PUT /metrics: %s", err);
		return;
	}
	ctx->metrics = json_deep_copy(req->body);
	if (!ctx->metrics)
		ctx->metrics = json_object();
	api_reply_empty(resp);
}

void api_get_mmds(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	(void)req;
	api_reply_json(resp, json_deep_copy(ctx->mmds));
}

static bool mmds_fits(const json_t *obj, const struct api_req *req, struct api_response *resp)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	size_t n = s ? strlen(s) : SIZE_MAX;

	free(s);
	if (n <= API_MMDS_MAX)
		return true;
	api_reply_fault(resp, 400, "%s /mmds: the data store would exceed %d bytes", req->method,
			API_MMDS_MAX);
	return false;
}

void api_put_mmds(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_t *copy;

	if (!mmds_fits(req->body, req, resp))
		return;
	copy = json_deep_copy(req->body);
	if (!copy) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	json_decref(ctx->mmds);
	ctx->mmds = copy;
	api_reply_empty(resp);
}

/* RFC 7396 JSON merge patch of target (an object) by patch (an object). */
static int merge_patch(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach(patch, key, v)
	{
		json_t *cur = json_object_get(target, key);

		if (json_is_null(v)) {
			json_object_del(target, key);
		} else if (json_is_object(v)) {
			if (!json_is_object(cur)) {
				cur = json_object();
				if (!cur || json_object_set_new(target, key, cur))
					return -ENOMEM;
			}
			if (merge_patch(cur, v))
				return -ENOMEM;
		} else if (json_object_set(target, key, v)) {
			return -ENOMEM;
		}
	}
	return 0;
}

void api_patch_mmds(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_t *copy = json_deep_copy(ctx->mmds);

	if (!copy || merge_patch(copy, req->body)) {
		json_decref(copy);
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	if (!mmds_fits(copy, req, resp)) {
		json_decref(copy);
		return;
	}
	json_decref(ctx->mmds);
	ctx->mmds = copy;
	api_reply_empty(resp);
}

void api_unsupported(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *what = "this request";

	(void)ctx;
	if (strncmp(req->path, "/snapshot/", 10) == 0)
		what = "snapshots";
	else if (strcmp(req->path, "/mmds/config") == 0)
		what = "the guest side of MMDS (no MMDS network stack; the data store works)";
	else if (strcmp(req->path, "/cpu-config") == 0)
		what = "custom CPU templates";
	else if (strncmp(req->path, "/pmem/", 6) == 0)
		what = "virtio-pmem";
	else if (strncmp(req->path, "/hotplug/", 9) == 0)
		what = "memory hotplug";
	else if (strncmp(req->path, "/balloon/hinting/", 17) == 0)
		what = "free page hinting";
	api_reply_fault(resp, 400, "%s %s: %s: not supported yet", req->method, req->path, what);
}
