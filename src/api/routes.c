// SPDX-License-Identifier: Apache-2.0
/*
 * The route table and api_handle(): method + path pattern -> handler.
 *
 * A pattern is a literal path in which "{}" stands for one non-empty path
 * segment (the drive or interface id). An unknown path and a known path
 * with a method it does not take both answer 400 "Invalid request method
 * and/or path", as Firecracker does (osprey never answers 405).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers_migration.h"
#include "api/internal.h"
#include "base/util.h"

enum {
	ROUTE_BODY = 1,	      /* the request needs a JSON object body */
	ROUTE_KEEP_NULLS = 2, /* null members are data (MMDS), not "absent" */
};

struct route {
	const char *method;
	const char *pattern;
	api_handler_fn fn;
	unsigned flags;
};

static const struct route routes[] = {
	{ "GET", "/", api_get_instance, 0 },
	{ "GET", "/version", api_get_version, 0 },
	{ "GET", "/vm/config", api_get_vm_config, 0 },
	{ "PUT", "/actions", api_put_actions, ROUTE_BODY },
	{ "PATCH", "/vm", api_patch_vm, ROUTE_BODY },
	{ "PUT", "/boot-source", api_put_boot_source, ROUTE_BODY },
	{ "GET", "/machine-config", api_get_machine_config, 0 },
	{ "PUT", "/machine-config", api_put_machine_config, ROUTE_BODY },
	{ "PATCH", "/machine-config", api_patch_machine_config, ROUTE_BODY },
	{ "PUT", "/drives/{}", api_put_drive, ROUTE_BODY },
	{ "PATCH", "/drives/{}", api_patch_drive, ROUTE_BODY },
	{ "PUT", "/network-interfaces/{}", api_put_net, ROUTE_BODY },
	{ "PATCH", "/network-interfaces/{}", api_patch_net, ROUTE_BODY },
	{ "PUT", "/vsock", api_put_vsock, ROUTE_BODY },
	{ "PUT", "/entropy", api_put_entropy, ROUTE_BODY },
	{ "PUT", "/serial", api_put_serial, ROUTE_BODY },
	{ "PUT", "/logger", api_put_logger, ROUTE_BODY },
	{ "PUT", "/metrics", api_put_metrics, ROUTE_BODY },
	{ "GET", "/balloon", api_get_balloon, 0 },
	{ "PUT", "/balloon", api_put_balloon, ROUTE_BODY },
	{ "PATCH", "/balloon", api_patch_balloon, ROUTE_BODY },
	{ "GET", "/balloon/statistics", api_get_balloon_stats, 0 },
	{ "PATCH", "/balloon/statistics", api_patch_balloon_stats, ROUTE_BODY },
	{ "PUT", "/migrate", api_put_migrate, ROUTE_BODY },
	{ "GET", "/migrate", api_get_migrate, 0 },
	{ "PUT", "/migrate/cancel", api_put_migrate_cancel, 0 },
	{ "GET", "/mmds", api_get_mmds, 0 },
	{ "PUT", "/mmds", api_put_mmds, ROUTE_BODY | ROUTE_KEEP_NULLS },
	{ "PATCH", "/mmds", api_patch_mmds, ROUTE_BODY | ROUTE_KEEP_NULLS },
	{ "PUT", "/snapshot/create", api_put_snapshot_create, ROUTE_BODY },
	{ "PUT", "/snapshot/load", api_put_snapshot_load, ROUTE_BODY },
	/* Known to the contract, not implemented by osprey: 400 with a reason. */
	{ "PUT", "/mmds/config", api_unsupported, 0 },
	{ "PUT", "/cpu-config", api_unsupported, 0 },
	{ "PUT", "/pmem/{}", api_unsupported, 0 },
	{ "PATCH", "/pmem/{}", api_unsupported, 0 },
	{ "PUT", "/hotplug/memory", api_unsupported, 0 },
	{ "PATCH", "/hotplug/memory", api_unsupported, 0 },
	{ "GET", "/hotplug/memory", api_unsupported, 0 },
	{ "PATCH", "/balloon/hinting/start", api_unsupported, 0 },
	{ "GET", "/balloon/hinting/status", api_unsupported, 0 },
	{ "PATCH", "/balloon/hinting/stop", api_unsupported, 0 },
};

/*
 * Matches path against pattern; the "{}" segment, if any, goes to
 * id (a buffer of idlen bytes). A segment longer than that does not match.
 */
static bool route_match(const char *pattern, const char *path, char *id, size_t idlen)
{
	while (*pattern) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= idlen)
				return false;
			memcpy(id, path, n);
			id[n] = '\0';
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *path == '\0';
}

struct api_ctx *api_ctx_create(const struct api_backend *backend, void *opaque)
{
	struct api_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->be = backend;
	ctx->opaque = opaque;
	vm_config_init(&ctx->cfg);
	ctx->cfg.mem_size = (uint64_t)API_DEFAULT_MEM_MIB << 20;
	ctx->cfg.cpu_template = NULL;
	ctx->cfg.accel = NULL;
	ctx->mmds = json_object();
	if (api_str_set(&ctx->cfg.cpu_template, "auto") || api_str_set(&ctx->cfg.accel, "auto") ||
	    !ctx->mmds) {
		api_ctx_destroy(ctx);
		return NULL;
	}
	return ctx;
}

void api_ctx_destroy(struct api_ctx *ctx)
{
	struct vm_config *c;

	if (!ctx)
		return;
	c = &ctx->cfg;
	api_str_free(&c->kernel_path);
	api_str_free(&c->initrd_path);
	api_str_free(&c->cmdline);
	api_str_free(&c->cpu_template);
	api_str_free(&c->accel);
	api_str_free(&c->console_path);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		api_str_free(&c->disks[i].path);
		api_str_free(&c->disks[i].id);
		free(ctx->drives[i].partuuid);
	}
	for (unsigned i = 0; i < VM_MAX_NETS; i++) {
		api_str_free(&c->nets[i].tap);
		api_str_free(&c->nets[i].id);
	}
	api_str_free(&c->vsock.uds);
	free(ctx->cpu_template);
	free(ctx->instance_id);
	json_decref(ctx->logger);
	json_decref(ctx->metrics);
	json_decref(ctx->mmds);
	api_boot_config_free(ctx->boot);
	free(ctx);
}

bool api_require_not_started(struct api_ctx *ctx, const struct api_req *req,
			     struct api_response *resp)
{
	if (ctx->state == API_NOT_STARTED)
		return true;
	api_reply_fault(resp, 400,
			"The requested operation is not supported after starting the microVM (%s %s)",
			req->method, req->path);
	return false;
}

void api_handle(struct api_ctx *ctx, const char *method, const char *path, const char *body,
		size_t len, struct api_response *resp)
{
	char id[API_ID_MAX + 2];
	const struct route *r = NULL;
	struct api_req req = { .method = method, .path = path };
	json_error_t jerr;

	resp->status = 500;
	resp->body = NULL;
	if (!method || !path) {
		api_reply_fault(resp, 400, "Invalid request method and/or path");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		id[0] = '\0';
		if (strcmp(routes[i].method, method) == 0 &&
		    route_match(routes[i].pattern, path, id, sizeof(id))) {
			r = &routes[i];
			break;
		}
	}
	if (!r) {
		api_reply_fault(resp, 400, "Invalid request method and/or path: %s %.200s", method,
				path);
		return;
	}
	if (strstr(r->pattern, "{}"))
		req.id = id;
	if (len > API_MAX_BODY) {
		api_reply_fault(resp, 400, "Request payload with size %zu is larger than the limit of %d bytes",
				len, API_MAX_BODY);
		return;
	}
	if (len > 0 && body) {
		req.body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!req.body) {
			api_reply_fault(resp, 400, "%s %s: malformed JSON body: %s (line %d, column %d)",
					method, path, jerr.text, jerr.line, jerr.column);
			return;
		}
		if (!json_is_object(req.body)) {
			api_reply_fault(resp, 400, "%s %s: the body must be a JSON object", method,
					path);
			goto out;
		}
		if (!(r->flags & ROUTE_KEEP_NULLS))
			api_drop_nulls(req.body);
	} else if (r->flags & ROUTE_BODY) {
		api_reply_fault(resp, 400, "%s %s: a JSON object body is required", method, path);
		return;
	}
	r->fn(ctx, &req, resp);
out:
	json_decref(req.body);
}
