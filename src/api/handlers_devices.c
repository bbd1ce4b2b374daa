// SPDX-License-Identifier: Apache-2.0
/*
 * Device requests: /drives/{id}, /network-interfaces/{id}, /vsock,
 * /entropy, /serial.
 *
 * cache_type: Firecracker's "Writeback" is osprey's writeback mode (host
 * page cache, FLUSH offered and honoured with fdatasync). osprey has no
 * mode that ignores flushes, so "Unsafe" (Firecracker's default) maps to
 * writeback as well: the guest sees a FLUSH feature and flushes reach the
 * disk. GET /vm/config reports the cache_type as given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

static bool check_path_id(const struct api_req *req, struct api_response *resp, const char *id)
{
	if (strcmp(id, req->id) != 0) {
		api_reply_fault(resp, 400, "%s %s: the id from the path does not match the id from the body",
				req->method, req->path);
		return false;
	}
	if (!api_id_valid(id)) {
		api_reply_fault(resp, 400, "%s %s: ids are 1 to %d characters from A-Z, a-z, 0-9 and _",
				req->method, req->path, API_ID_MAX);
		return false;
	}
	return true;
}

/*
 * The checks a device PATCH starts with: the ids, and a started machine
 * (what: "drives", "interfaces"). false: the fault is in resp.
 */
static bool check_patch(const struct api_ctx *ctx, const struct api_req *req,
			struct api_response *resp, const char *id, const char *what)
{
	if (!check_path_id(req, resp, id))
		return false;
	if (ctx->state == API_NOT_STARTED) {
		api_reply_fault(resp, 400,
				"PATCH %s: %s can be patched only after InstanceStart (use PUT before)",
				req->path, what);
		return false;
	}
	return true;
}

static int find_drive(const struct api_ctx *ctx, const char *id)
{
	for (unsigned i = 0; i < ctx->cfg.ndisks; i++)
		if (strcmp(ctx->cfg.disks[i].id, id) == 0)
			return (int)i;
	return -1;
}

void api_put_drive(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *id = NULL, *path = NULL, *partuuid = NULL, *cache = NULL, *engine = NULL;
	const char *sock = NULL;
	int root = 0, ro = 0, idx;
	json_t *rl_obj = NULL;
	struct rate_limiter_config rl;
	struct vm_disk_config *d;
	struct api_drive *x;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s:s, s:b, s?s, s?b, s?s, s?s, s?o, s?s, s?s}",
		       "drive_id", &id, "is_root_device", &root, "path_on_host", &path,
		       "is_read_only", &ro, "partuuid", &partuuid, "cache_type", &cache,
		       "rate_limiter", &rl_obj, "io_engine", &engine, "socket", &sock))
		return;
	if (!check_path_id(req, resp, id))
		return;
	if (strlen(id) > VM_DISK_ID_MAX) {
		api_reply_fault(resp, 400, "PUT %s: drive_id is longer than %d characters (the virtio-blk serial)",
				req->path, VM_DISK_ID_MAX);
		return;
	}
	if (sock) {
		api_reply_fault(resp, 400, "PUT %s: vhost-user-block (socket) is not supported", req->path);
		return;
	}
	if (!path || !*path) {
		api_reply_fault(resp, 400, "PUT %s: path_on_host is required", req->path);
		return;
	}
	if (cache && strcmp(cache, "Unsafe") != 0 && strcmp(cache, "Writeback") != 0) {
		api_reply_fault(resp, 400, "PUT %s: cache_type must be Unsafe or Writeback, not '%.32s'",
				req->path, cache);
		return;
	}
	if (engine && strcmp(engine, "Sync") != 0) {
		api_reply_fault(resp, 400, "PUT %s: io_engine '%.32s' is not supported (only Sync)",
				req->path, engine);
		return;
	}
	if (partuuid && (!*partuuid || strlen(partuuid) > 64 ||
			 strspn(partuuid, "0123456789abcdefABCDEF-") != strlen(partuuid))) {
		api_reply_fault(resp, 400, "PUT %s: partuuid must be 1 to 64 hex digits and dashes",
				req->path);
		return;
	}
	if (api_parse_rate_limiter(req, resp, rl_obj, "rate_limiter", &rl))
		return;
	idx = find_drive(ctx, id);
	for (unsigned i = 0; root && i < ctx->cfg.ndisks; i++) {
		if ((int)i != idx && ctx->drives[i].is_root) {
			api_reply_fault(resp, 400, "PUT %s: a root block device already exists (%s)",
					req->path, ctx->cfg.disks[i].id);
			return;
		}
	}
	if (idx < 0) {
		if (ctx->cfg.ndisks == VM_MAX_DISKS) {
			api_reply_fault(resp, 400, "PUT %s: at most %d drives", req->path, VM_MAX_DISKS);
			return;
		}
		idx = (int)ctx->cfg.ndisks;
		memset(&ctx->cfg.disks[idx], 0, sizeof(ctx->cfg.disks[idx]));
		memset(&ctx->drives[idx], 0, sizeof(ctx->drives[idx]));
		if (api_str_set(&ctx->cfg.disks[idx].id, id)) {
			api_reply_fault(resp, 500, "out of memory");
			return;
		}
		ctx->cfg.ndisks++;
	}
	d = &ctx->cfg.disks[idx];
	x = &ctx->drives[idx];
	if (api_str_set(&d->path, path)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	free(x->partuuid);
	x->partuuid = partuuid && root ? strdup(partuuid) : NULL;
	d->read_only = ro;
	d->cache = DISK_CACHE_WRITEBACK;
	d->rate_limit = rl;
	x->is_root = root;
	x->cache_unsafe = !cache || strcmp(cache, "Unsafe") == 0;
	x->has_rate_limiter = rl_obj != NULL;
	api_reply_empty(resp);
}

void api_patch_drive(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *id = NULL, *path = NULL;
	json_t *rl_obj = NULL;
	struct rate_limiter_config rl;
	char err[API_ERR_MAX] = "";
	int idx;

	if (api_unpack(req, resp, req->body, "{s:s, s?s, s?o}", "drive_id", &id, "path_on_host",
		       &path, "rate_limiter", &rl_obj))
		return;
	if (!check_patch(ctx, req, resp, id, "drives"))
		return;
	if (path && !*path) {
		api_reply_fault(resp, 400, "PATCH %s: path_on_host is empty", req->path);
		return;
	}
	if (api_parse_rate_limiter(req, resp, rl_obj, "rate_limiter", &rl))
		return;
	idx = find_drive(ctx, id);
	if (idx < 0) {
		api_reply_fault(resp, 400, "PATCH %s: no drive '%s'", req->path, id);
		return;
	}
	if (ctx->be && ctx->be->update_disk(ctx->opaque, id, path, rl_obj ? &rl : NULL, err,
					    sizeof(err))) {
		api_reply_fault(resp, 400, "PATCH %s: %s", req->path, err);
		return;
	}
	/* The machine runs on its own copy (ctx->boot); this one answers GETs. */
	if (path && api_str_set(&ctx->cfg.disks[idx].path, path)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	if (rl_obj) {
		ctx->cfg.disks[idx].rate_limit = rl;
		ctx->drives[idx].has_rate_limiter = true;
	}
	api_reply_empty(resp);
}

json_t *api_drives_json(const struct api_ctx *ctx)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < ctx->cfg.ndisks; i++) {
		const struct vm_disk_config *d = &ctx->cfg.disks[i];
		const struct api_drive *x = &ctx->drives[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:b, s:s, s:s}", "drive_id", d->id,
				      "path_on_host", d->path, "is_root_device", x->is_root,
				      "is_read_only", d->read_only, "cache_type",
				      x->cache_unsafe ? "Unsafe" : "Writeback", "io_engine", "Sync");

		if (o && x->partuuid)
			json_object_set_new(o, "partuuid", json_string(x->partuuid));
		if (o && x->has_rate_limiter)
			json_object_set_new(o, "rate_limiter", api_rate_limiter_json(&d->rate_limit));
		json_array_append_new(a, o);
	}
	return a;
}

static int find_net(const struct api_ctx *ctx, const char *id)
{
	for (unsigned i = 0; i < ctx->cfg.nnets; i++)
		if (strcmp(ctx->cfg.nets[i].id, id) == 0)
			return (int)i;
	return -1;
}

void api_put_net(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *id = NULL, *tap = NULL, *mac = NULL;
	json_t *rx_obj = NULL, *tx_obj = NULL;
	json_int_t mtu = -1;
	struct rate_limiter_config rx, tx;
	struct vm_net_config parsed;
	char spec[64], err[256];
	int idx;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s:s, s:s, s?s, s?o, s?o, s?I}", "iface_id", &id,
		       "host_dev_name", &tap, "guest_mac", &mac, "rx_rate_limiter", &rx_obj,
		       "tx_rate_limiter", &tx_obj, "mtu", &mtu))
		return;
	if (!check_path_id(req, resp, id))
		return;
	if (mtu != -1) {
		api_reply_fault(resp, 400, "PUT %s: mtu is not supported", req->path);
		return;
	}
	/* vm_config_parse_net's rules (tap name length, unicast MAC). */
	if (strchr(tap, ',') || (mac && strchr(mac, ',')) ||
	    snprintf(spec, sizeof(spec), "tap=%s%s%s", tap, mac ? ",mac=" : "", mac ? mac : "") >=
		    (int)sizeof(spec) ||
	    vm_config_parse_net(spec, &parsed, err, sizeof(err))) {
		api_reply_fault(resp, 400,
				"PUT %s: host_dev_name must be 1 to 15 characters and guest_mac a unicast address like 06:00:00:00:00:01",
				req->path);
		return;
	}
	if (api_parse_rate_limiter(req, resp, rx_obj, "rx_rate_limiter", &rx) ||
	    api_parse_rate_limiter(req, resp, tx_obj, "tx_rate_limiter", &tx))
		return;
	idx = find_net(ctx, id);
	for (unsigned i = 0; i < ctx->cfg.nnets; i++) {
		if ((int)i == idx)
			continue;
		if (strcmp(ctx->cfg.nets[i].tap, tap) == 0) {
			api_reply_fault(resp, 400, "PUT %s: host device %s is already used by %s",
					req->path, tap, ctx->cfg.nets[i].id);
			return;
		}
		if (parsed.has_mac && ctx->cfg.nets[i].has_mac &&
		    memcmp(ctx->cfg.nets[i].mac, parsed.mac, 6) == 0) {
			api_reply_fault(resp, 400, "PUT %s: guest_mac %s is already used by %s",
					req->path, mac, ctx->cfg.nets[i].id);
			return;
		}
	}
	if (idx < 0) {
		if (ctx->cfg.nnets == VM_MAX_NETS) {
			api_reply_fault(resp, 400, "PUT %s: at most %d network interfaces", req->path,
					VM_MAX_NETS);
			return;
		}
		idx = (int)ctx->cfg.nnets;
		memset(&ctx->cfg.nets[idx], 0, sizeof(ctx->cfg.nets[idx]));
		memset(&ctx->nets[idx], 0, sizeof(ctx->nets[idx]));
		if (api_str_set(&ctx->cfg.nets[idx].id, id)) {
			api_reply_fault(resp, 500, "out of memory");
			return;
		}
		ctx->cfg.nnets++;
	}
	if (api_str_set(&ctx->cfg.nets[idx].tap, tap)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	memcpy(ctx->cfg.nets[idx].mac, parsed.mac, 6);
	ctx->cfg.nets[idx].has_mac = parsed.has_mac;
	ctx->cfg.nets[idx].rx_rate_limit = rx;
	ctx->cfg.nets[idx].tx_rate_limit = tx;
	snprintf(ctx->nets[idx].mac, sizeof(ctx->nets[idx].mac), "%s", mac ? mac : "");
	ctx->nets[idx].has_rx = rx_obj != NULL;
	ctx->nets[idx].has_tx = tx_obj != NULL;
	api_reply_empty(resp);
}

void api_patch_net(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *id = NULL;
	json_t *rx_obj = NULL, *tx_obj = NULL;
	struct rate_limiter_config rx, tx;
	char err[API_ERR_MAX] = "";
	int idx;

	if (api_unpack(req, resp, req->body, "{s:s, s?o, s?o}", "iface_id", &id,
		       "rx_rate_limiter", &rx_obj, "tx_rate_limiter", &tx_obj))
		return;
	if (!check_patch(ctx, req, resp, id, "interfaces"))
		return;
	if (api_parse_rate_limiter(req, resp, rx_obj, "rx_rate_limiter", &rx) ||
	    api_parse_rate_limiter(req, resp, tx_obj, "tx_rate_limiter", &tx))
		return;
	idx = find_net(ctx, id);
	if (idx < 0) {
		api_reply_fault(resp, 400, "PATCH %s: no network interface '%s'", req->path, id);
		return;
	}
	if (ctx->be && ctx->be->update_net(ctx->opaque, id, rx_obj ? &rx : NULL,
					   tx_obj ? &tx : NULL, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PATCH %s: %s", req->path, err);
		return;
	}
	if (rx_obj) {
		ctx->cfg.nets[idx].rx_rate_limit = rx;
		ctx->nets[idx].has_rx = true;
	}
	if (tx_obj) {
		ctx->cfg.nets[idx].tx_rate_limit = tx;
		ctx->nets[idx].has_tx = true;
	}
	api_reply_empty(resp);
}

json_t *api_nets_json(const struct api_ctx *ctx)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < ctx->cfg.nnets; i++) {
		const struct vm_net_config *n = &ctx->cfg.nets[i];
		json_t *o = json_pack("{s:s, s:s}", "iface_id", n->id, "host_dev_name", n->tap);

		if (o && ctx->nets[i].mac[0])
			json_object_set_new(o, "guest_mac", json_string(ctx->nets[i].mac));
		if (o && ctx->nets[i].has_rx)
			json_object_set_new(o, "rx_rate_limiter",
					    api_rate_limiter_json(&n->rx_rate_limit));
		if (o && ctx->nets[i].has_tx)
			json_object_set_new(o, "tx_rate_limiter",
					    api_rate_limiter_json(&n->tx_rate_limit));
		json_array_append_new(a, o);
	}
	return a;
}

void api_put_vsock(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *uds = NULL, *vsock_id = NULL;
	json_int_t cid = 0;
	struct vm_vsock_config parsed;
	char spec[160], err[256];

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s:I, s:s, s?s}", "guest_cid", &cid, "uds_path", &uds,
		       "vsock_id", &vsock_id))
		return;
	/* vm_config_parse_vsock's rules (CID range, socket path length). */
	if (cid < 0 || strchr(uds, ',') ||
	    snprintf(spec, sizeof(spec), "cid=%lld,uds=%s", (long long)cid, uds) >=
		    (int)sizeof(spec) ||
	    vm_config_parse_vsock(spec, &parsed, err, sizeof(err))) {
		api_reply_fault(resp, 400,
				"PUT /vsock: guest_cid must be 3 to 4294967294 and uds_path 1 to 99 characters");
		return;
	}
	if (api_str_set(&ctx->cfg.vsock.uds, uds)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	ctx->cfg.vsock.cid = parsed.cid;
	ctx->cfg.vsock.enabled = true;
	api_reply_empty(resp);
}

json_t *api_vsock_json(const struct api_ctx *ctx)
{
	if (!ctx->cfg.vsock.enabled)
		return json_null();
	return json_pack("{s:I, s:s}", "guest_cid", (json_int_t)ctx->cfg.vsock.cid, "uds_path",
			 ctx->cfg.vsock.uds);
}

void api_put_entropy(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_t *rl_obj = NULL;
	struct rate_limiter_config rl;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s?o}", "rate_limiter", &rl_obj) ||
	    api_parse_rate_limiter(req, resp, rl_obj, "rate_limiter", &rl))
		return;
	ctx->cfg.rng = true;
	ctx->cfg.rng_rate_limit = rl;
	ctx->has_rng_rate_limiter = rl_obj != NULL;
	api_reply_empty(resp);
}

json_t *api_entropy_json(const struct api_ctx *ctx)
{
	json_t *o;

	if (!ctx->cfg.rng)
		return json_null();
	o = json_object();
	if (o && ctx->has_rng_rate_limiter)
		json_object_set_new(o, "rate_limiter", api_rate_limiter_json(&ctx->cfg.rng_rate_limit));
	return o;
}

void api_put_serial(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *path = NULL;
	json_t *rl_obj = NULL;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s?s, s?o}", "serial_out_path", &path,
		       "rate_limiter", &rl_obj))
		return;
	if (rl_obj) {
		api_reply_fault(resp, 400, "PUT /serial: rate_limiter is not supported");
		return;
	}
	if (path && !*path) {
		api_reply_fault(resp, 400, "PUT /serial: serial_out_path is empty");
		return;
	}
	if (api_str_set(&ctx->cfg.console_path, path)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	ctx->cfg.console = path ? CONSOLE_FILE : CONSOLE_STDIO;
	ctx->has_serial = true;
	api_reply_empty(resp);
}
