// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /snapshot/create and PUT /snapshot/load (docs/snapshots.md).
 *
 * create: a paused, started machine to a state file and a memory file.
 * load: on a fresh process only (nothing but the logger and metrics
 * configured, no InstanceStart), a machine from those files instead of a
 * boot. The loaded machine's configuration then stands in for what the
 * requests would have built, so GET / and GET /vm/config describe it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "snapshot/snapshot.h"

void api_put_snapshot_create(struct api_ctx *ctx, const struct api_req *req,
			     struct api_response *resp)
{
	const char *type = NULL, *state_path = NULL, *mem_path = NULL, *version = NULL;
	struct snapshot_create_params p = { 0 };
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s?s, s:s, s:s, s?s}", "snapshot_type", &type,
		       "snapshot_path", &state_path, "mem_file_path", &mem_path, "version",
		       &version))
		return;
	if (!type || strcmp(type, "Full") == 0) {
		p.type = SNAPSHOT_FULL;
	} else if (strcmp(type, "Diff") == 0) {
		p.type = SNAPSHOT_DIFF;
	} else {
		api_reply_fault(resp, 400,
				"PUT /snapshot/create: snapshot_type must be Full or Diff, not '%.64s'",
				type);
		return;
	}
	if (!*state_path || !*mem_path) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/create: snapshot_path and mem_file_path must not be empty");
		return;
	}
	if (strcmp(state_path, mem_path) == 0) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/create: snapshot_path and mem_file_path must be different files");
		return;
	}
	if (ctx->state == API_NOT_STARTED) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/create: the microVM has not been started (only a started, paused microVM can be snapshotted)");
		return;
	}
	if (ctx->state != API_PAUSED) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/create: the microVM must be paused first (PATCH /vm {\"state\": \"Paused\"})");
		return;
	}
	p.state_path = state_path;
	p.mem_path = mem_path;
	if (ctx->be && !ctx->be->snapshot_create) {
		api_reply_fault(resp, 400, "PUT /snapshot/create: not supported by this VMM");
		return;
	}
	if (ctx->be && ctx->be->snapshot_create(ctx->opaque, &p, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PUT /snapshot/create: %s", err);
		return;
	}
	api_reply_empty(resp);
}

/* What Firecracker allows before a load: only the logger and metrics. */
static const char *configured_resource(const struct api_ctx *ctx)
{
	if (ctx->has_boot_source)
		return "boot-source";
	if (ctx->cfg.ndisks)
		return "drives";
	if (ctx->cfg.nnets)
		return "network-interfaces";
	if (ctx->cfg.vsock.enabled)
		return "vsock";
	if (ctx->cfg.balloon.enabled)
		return "balloon";
	if (ctx->cfg.rng)
		return "entropy";
	if (ctx->has_serial)
		return "serial";
	return NULL;
}

/*
 * Replaces the context's configuration with a copy of the loaded
 * machine's (every string owned by the context). Ids that a command-line
 * machine left out get the names GET /vm/config needs.
 */
static int adopt_config(struct api_ctx *ctx, const struct vm_config *src)
{
	struct vm_config *c = &ctx->cfg;
	char name[32];
	int ret = 0;

	api_str_free(&c->kernel_path);
	api_str_free(&c->initrd_path);
	api_str_free(&c->cmdline);
	api_str_free(&c->cpu_template);
	api_str_free(&c->accel);
	api_str_free(&c->console_path);
	api_str_free(&c->vsock.uds);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		api_str_free(&c->disks[i].path);
		api_str_free(&c->disks[i].id);
		free(ctx->drives[i].partuuid);
		memset(&ctx->drives[i], 0, sizeof(ctx->drives[i]));
	}
	for (unsigned i = 0; i < VM_MAX_NETS; i++) {
		api_str_free(&c->nets[i].tap);
		api_str_free(&c->nets[i].id);
		memset(&ctx->nets[i], 0, sizeof(ctx->nets[i]));
	}
	*c = *src;
	c->kernel_path = c->initrd_path = c->cmdline = NULL;
	c->cpu_template = c->accel = c->console_path = c->vsock.uds = NULL;
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		c->disks[i].path = c->disks[i].id = NULL;
	for (unsigned i = 0; i < VM_MAX_NETS; i++)
		c->nets[i].tap = c->nets[i].id = NULL;
	if (c->ndisks > VM_MAX_DISKS)
		c->ndisks = VM_MAX_DISKS;
	if (c->nnets > VM_MAX_NETS)
		c->nnets = VM_MAX_NETS;

	ret |= api_str_set(&c->kernel_path, src->kernel_path);
	ret |= api_str_set(&c->initrd_path, src->initrd_path);
	ret |= api_str_set(&c->cmdline, src->cmdline);
	ret |= api_str_set(&c->cpu_template, src->cpu_template ? src->cpu_template : "auto");
	ret |= api_str_set(&c->accel, src->accel ? src->accel : "auto");
	ret |= api_str_set(&c->console_path, src->console_path);
	ret |= api_str_set(&c->vsock.uds, src->vsock.uds);
	for (unsigned i = 0; i < c->ndisks; i++) {
		const char *id = src->disks[i].id;

		snprintf(name, sizeof(name), "drive%u", i);
		ret |= api_str_set(&c->disks[i].path, src->disks[i].path ? src->disks[i].path : "");
		ret |= api_str_set(&c->disks[i].id, id && *id ? id : name);
		ctx->drives[i].is_root = false;
		ctx->drives[i].cache_unsafe = true; /* the API's default; not in vm_config */
		ctx->drives[i].has_rate_limiter =
			rate_limiter_config_active(&src->disks[i].rate_limit);
	}
	for (unsigned i = 0; i < c->nnets; i++) {
		const uint8_t *m = src->nets[i].mac;

		snprintf(name, sizeof(name), "net%u", i);
		ret |= api_str_set(&c->nets[i].tap, src->nets[i].tap ? src->nets[i].tap : "");
		ret |= api_str_set(&c->nets[i].id, src->nets[i].id ? src->nets[i].id : name);
		if (src->nets[i].has_mac)
			snprintf(ctx->nets[i].mac, sizeof(ctx->nets[i].mac),
				 "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
				 m[5]);
		ctx->nets[i].has_rx = rate_limiter_config_active(&src->nets[i].rx_rate_limit);
		ctx->nets[i].has_tx = rate_limiter_config_active(&src->nets[i].tx_rate_limit);
	}
	ctx->has_boot_source = c->kernel_path != NULL;
	ctx->track_dirty_pages = src->track_dirty_pages;
	return ret ? -ENOMEM : 0;
}

void api_put_snapshot_load(struct api_ctx *ctx, const struct api_req *req,
			   struct api_response *resp)
{
	const char *state_path = NULL, *mem_file = NULL, *btype = NULL, *bpath = NULL;
	const char *huge = NULL, *what;
	json_t *backend = NULL, *net_over = NULL, *vsock_over = NULL;
	int diff = 0, track = 0, resume = 0, clock_rt = 0;
	struct snapshot_load_params p = { 0 };
	const struct vm_config *loaded = NULL;
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s:s, s?s, s?o, s?b, s?b, s?b, s?b, s?s, s?o, s?o}",
		       "snapshot_path", &state_path, "mem_file_path", &mem_file, "mem_backend",
		       &backend, "enable_diff_snapshots", &diff, "track_dirty_pages", &track,
		       "resume_vm", &resume, "clock_realtime", &clock_rt, "huge_pages", &huge,
		       "network_overrides", &net_over, "vsock_override", &vsock_over))
		return;
	(void)clock_rt; /* osprey always moves the guest clock on by the time away */
	if (backend) {
		if (mem_file) {
			api_reply_fault(resp, 400,
					"PUT /snapshot/load: give either mem_backend or mem_file_path, not both");
			return;
		}
		if (api_unpack(req, resp, backend, "{s:s, s:s}", "backend_type", &btype,
			       "backend_path", &bpath))
			return;
		if (strcmp(btype, "File") != 0) {
			api_reply_fault(resp, 400,
					"PUT /snapshot/load: mem_backend backend_type '%.32s' is not supported (only File)",
					btype);
			return;
		}
		mem_file = bpath;
	}
	if (!mem_file) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: the memory file is missing (mem_backend {\"backend_type\": \"File\", \"backend_path\": ...})");
		return;
	}
	if (!*state_path || !*mem_file) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: snapshot_path and the memory file path must not be empty");
		return;
	}
	if (huge && strcmp(huge, "None") != 0 && strcmp(huge, "Snapshot") != 0) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: huge_pages '%.32s' is not supported (None or Snapshot)",
				huge);
		return;
	}
	if ((net_over && json_array_size(net_over)) || vsock_over) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: network_overrides and vsock_override are not supported yet");
		return;
	}
	if (ctx->state != API_NOT_STARTED) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: only a fresh microVM can load a snapshot (this one was already started or loaded)");
		return;
	}
	what = configured_resource(ctx);
	if (what) {
		api_reply_fault(resp, 400,
				"PUT /snapshot/load: not allowed after configuring boot-specific resources (%s); only the logger and metrics may come first",
				what);
		return;
	}
	p.state_path = state_path;
	p.mem_path = mem_file;
	p.enable_diff_snapshots = diff || track;
	p.resume = resume;
	if (ctx->be && !ctx->be->snapshot_load) {
		api_reply_fault(resp, 400, "PUT /snapshot/load: not supported by this VMM");
		return;
	}
	if (ctx->be && ctx->be->snapshot_load(ctx->opaque, &p, &loaded, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PUT /snapshot/load: %s", err);
		return;
	}
	if (loaded && adopt_config(ctx, loaded)) {
		/* The machine runs; only its description is short. */
		api_reply_fault(resp, 500, "PUT /snapshot/load: out of memory");
		ctx->state = resume ? API_RUNNING : API_PAUSED;
		return;
	}
	if (p.enable_diff_snapshots)
		ctx->track_dirty_pages = true;
	ctx->state = resume ? API_RUNNING : API_PAUSED;
	api_reply_empty(resp);
}
