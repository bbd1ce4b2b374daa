// SPDX-License-Identifier: Apache-2.0
/*
 * Instance-level requests: GET /, /version, /vm/config, PUT /boot-source,
 * /machine-config, PUT /actions and PATCH /vm.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "api/internal.h"
#include "arch/x86/mptable.h"
#include "cli/cli.h"

static uint64_t host_ram(void)
{
	struct sysinfo si;

	if (sysinfo(&si) != 0)
		return 0;
	return (uint64_t)si.totalram * si.mem_unit;
}

static const char *state_name(enum api_state s)
{
	switch (s) {
	case API_RUNNING:
		return "Running";
	case API_PAUSED:
		return "Paused";
	case API_NOT_STARTED:
		break;
	}
	return "Not started";
}

/*
 * osprey's extension "accel": the accelerator the machine runs on once
 * started ("kvm" or "soft"), before that the one configured ("auto", ...).
 */
static const char *instance_accel(const struct api_ctx *ctx)
{
	const char *name = NULL;

	if (ctx->state != API_NOT_STARTED && ctx->be && ctx->be->accel_name)
		name = ctx->be->accel_name(ctx->opaque);
	if (!name)
		name = ctx->cfg.accel ? ctx->cfg.accel : "auto";
	return name;
}

void api_get_instance(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	(void)req;
	api_reply_json(resp, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id",
				       ctx->instance_id ? ctx->instance_id : "anonymous-instance",
				       "state", state_name(ctx->state), "vmm_version", OSPREY_VERSION,
				       "app_name", "osprey", "accel", instance_accel(ctx)));
}

void api_get_version(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	(void)ctx;
	(void)req;
	api_reply_json(resp, json_pack("{s:s}", "firecracker_version", OSPREY_VERSION));
}

static json_t *boot_source_json(const struct api_ctx *ctx)
{
	if (!ctx->has_boot_source)
		return json_null();
	return json_pack("{s:s, s:s?, s:s?}", "kernel_image_path", ctx->cfg.kernel_path,
			 "initrd_path", ctx->cfg.initrd_path, "boot_args", ctx->cfg.cmdline);
}

json_t *api_machine_config_json(const struct api_ctx *ctx)
{
	json_t *o = json_pack("{s:i, s:I, s:b, s:b, s:s}", "vcpu_count", (int)ctx->cfg.ncpus,
			      "mem_size_mib", (json_int_t)(ctx->cfg.mem_size >> 20), "smt", ctx->smt,
			      "track_dirty_pages", ctx->track_dirty_pages, "huge_pages", "None");

	if (o && ctx->cpu_template)
		json_object_set_new(o, "cpu_template", json_string(ctx->cpu_template));
	/* osprey's extension, shown when not the default. */
	if (o && ctx->cfg.accel && strcmp(ctx->cfg.accel, "auto") != 0)
		json_object_set_new(o, "accel", json_string(ctx->cfg.accel));
	return o;
}

void api_get_vm_config(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_t *o;

	(void)req;
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:O?, s:O?, s:n, s:n}", "boot-source",
		      boot_source_json(ctx), "machine-config", api_machine_config_json(ctx),
		      "drives", api_drives_json(ctx), "network-interfaces", api_nets_json(ctx),
		      "vsock", api_vsock_json(ctx), "entropy", api_entropy_json(ctx), "balloon",
		      api_balloon_json(ctx), "logger", ctx->logger, "metrics", ctx->metrics,
		      "mmds-config", "cpu-config");
	api_reply_json(resp, o);
}

void api_put_boot_source(struct api_ctx *ctx, const struct api_req *req,
			 struct api_response *resp)
{
	const char *kernel = NULL, *initrd = NULL, *args = NULL;
	const char *old_k, *old_i, *old_a;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s:s, s?s, s?s}", "kernel_image_path", &kernel,
		       "initrd_path", &initrd, "boot_args", &args))
		return;
	if (!*kernel) {
		api_reply_fault(resp, 400, "PUT /boot-source: kernel_image_path is empty");
		return;
	}
	if (args && strlen(args) >= VM_CMDLINE_MAX) {
		api_reply_fault(resp, 400, "PUT /boot-source: boot_args is %zu bytes, the limit is %d",
				strlen(args), VM_CMDLINE_MAX - 1);
		return;
	}
	/* All or nothing: keep the old strings until the new ones exist. */
	old_k = ctx->cfg.kernel_path;
	old_i = ctx->cfg.initrd_path;
	old_a = ctx->cfg.cmdline;
	ctx->cfg.kernel_path = ctx->cfg.initrd_path = ctx->cfg.cmdline = NULL;
	if (api_str_set(&ctx->cfg.kernel_path, kernel) || api_str_set(&ctx->cfg.initrd_path, initrd) ||
	    api_str_set(&ctx->cfg.cmdline, args)) {
		api_str_free(&ctx->cfg.kernel_path);
		api_str_free(&ctx->cfg.initrd_path);
		api_str_free(&ctx->cfg.cmdline);
		ctx->cfg.kernel_path = old_k;
		ctx->cfg.initrd_path = old_i;
		ctx->cfg.cmdline = old_a;
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	api_str_free(&old_k);
	api_str_free(&old_i);
	api_str_free(&old_a);
	ctx->has_boot_source = true;
	api_reply_empty(resp);
}

/* Maps Firecracker's cpu_template to osprey's; NULL if osprey has no such template. */
static const char *map_cpu_template(const char *name)
{
	if (strcmp(name, "None") == 0)
		return "auto";
	if (strcmp(name, "host") == 0 || strcmp(name, "emulated") == 0 ||
	    strcmp(name, "soft") == 0)
		return name; /* osprey's own templates (an extension) */
	return NULL;
}

static void machine_config(struct api_ctx *ctx, const struct api_req *req,
			   struct api_response *resp, bool put)
{
	json_int_t vcpus = ctx->cfg.ncpus, mib = (json_int_t)(ctx->cfg.mem_size >> 20);
	int smt = ctx->smt, dirty = ctx->track_dirty_pages;
	const char *tmpl = NULL, *huge = NULL, *mapped, *accel = NULL;
	struct vm_config trial;
	char err[256];
	int ret;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (put) {
		smt = 0;
		dirty = 0;
		ret = api_unpack(req, resp, req->body, "{s:I, s:I, s?b, s?b, s?s, s?s, s?s}",
				 "vcpu_count", &vcpus, "mem_size_mib", &mib, "smt", &smt,
				 "track_dirty_pages", &dirty, "cpu_template", &tmpl, "huge_pages",
				 &huge, "accel", &accel);
	} else {
		ret = api_unpack(req, resp, req->body, "{s?I, s?I, s?b, s?b, s?s, s?s, s?s}",
				 "vcpu_count", &vcpus, "mem_size_mib", &mib, "smt", &smt,
				 "track_dirty_pages", &dirty, "cpu_template", &tmpl, "huge_pages",
				 &huge, "accel", &accel);
	}
	if (ret)
		return;
	if (vcpus < 1 || vcpus > MPTABLE_MAX_CPUS) {
		api_reply_fault(resp, 400, "%s /machine-config: vcpu_count must be from 1 to %d",
				req->method, MPTABLE_MAX_CPUS);
		return;
	}
	if (mib < 1 || (uint64_t)mib > (UINT64_MAX >> 20)) {
		api_reply_fault(resp, 400, "%s /machine-config: mem_size_mib must be at least 1",
				req->method);
		return;
	}
	if (smt && vcpus > 1 && vcpus % 2) {
		api_reply_fault(resp, 400,
				"%s /machine-config: with smt the vcpu_count must be 1 or an even number",
				req->method);
		return;
	}
	if (huge && strcmp(huge, "None") != 0) {
		api_reply_fault(resp, 400,
				"%s /machine-config: huge_pages '%s' is not supported (only None)",
				req->method, huge);
		return;
	}
	mapped = put ? "auto" : ctx->cfg.cpu_template;
	if (tmpl) {
		mapped = map_cpu_template(tmpl);
		if (!mapped) {
			api_reply_fault(resp, 400,
					"%s /machine-config: osprey has no CPU template '%s' (None picks "
					"host, emulated or soft for this host and accelerator; host, "
					"emulated and soft may be named)",
					req->method, tmpl);
			return;
		}
	}
	/* The rest of the rules are vm_config_validate's (minimum size, host RAM, ...). */
	trial = ctx->cfg;
	trial.ncpus = (unsigned)vcpus;
	trial.mem_size = (uint64_t)mib << 20;
	trial.cpu_template = mapped;
	/* PUT replaces the whole configuration: no "accel" means auto. */
	if (accel || put)
		trial.accel = accel ? accel : "auto";
	if (!trial.kernel_path)
		trial.kernel_path = "(not yet given)";
	if (vm_config_validate(&trial, host_ram(), err, sizeof(err))) {
		api_reply_fault(resp, 400, "%s /machine-config: %s", req->method, err);
		return;
	}
	if (mapped != ctx->cfg.cpu_template && api_str_set(&ctx->cfg.cpu_template, mapped)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	if (trial.accel != ctx->cfg.accel && api_str_set(&ctx->cfg.accel, trial.accel)) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	if (tmpl || put) {
		free(ctx->cpu_template);
		ctx->cpu_template = tmpl ? strdup(tmpl) : NULL;
	}
	ctx->cfg.ncpus = (unsigned)vcpus;
	ctx->cfg.mem_size = (uint64_t)mib << 20;
	ctx->smt = smt;
	ctx->track_dirty_pages = dirty;
	ctx->cfg.track_dirty_pages = dirty;
	api_reply_empty(resp);
}

void api_get_machine_config(struct api_ctx *ctx, const struct api_req *req,
			    struct api_response *resp)
{
	(void)req;
	api_reply_json(resp, api_machine_config_json(ctx));
}

void api_put_machine_config(struct api_ctx *ctx, const struct api_req *req,
			    struct api_response *resp)
{
	machine_config(ctx, req, resp, true);
}

void api_patch_machine_config(struct api_ctx *ctx, const struct api_req *req,
			      struct api_response *resp)
{
	machine_config(ctx, req, resp, false);
}

static void instance_start(struct api_ctx *ctx, struct api_response *resp)
{
	struct vm_config *boot = NULL;
	char err[API_ERR_MAX] = "";

	if (ctx->state != API_NOT_STARTED) {
		api_reply_fault(resp, 400, "InstanceStart: the microVM has already been started");
		return;
	}
	if (!ctx->has_boot_source) {
		api_reply_fault(resp, 400, "InstanceStart: no boot source (PUT /boot-source first)");
		return;
	}
	if (api_boot_config(ctx, &boot, err, sizeof(err)) ||
	    vm_config_validate(boot, host_ram(), err, sizeof(err))) {
		api_reply_fault(resp, 400, "InstanceStart: %s", err);
		goto fail;
	}
	if (ctx->be && ctx->be->start(ctx->opaque, boot, err, sizeof(err))) {
		api_reply_fault(resp, 400, "InstanceStart failed: %s", err);
		goto fail;
	}
	ctx->boot = boot;
	ctx->state = API_RUNNING;
	api_reply_empty(resp);
	return;
fail:
	api_boot_config_free(boot);
}

void api_put_actions(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *action = NULL;
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s:s}", "action_type", &action))
		return;
	if (strcmp(action, "InstanceStart") == 0) {
		instance_start(ctx, resp);
	} else if (strcmp(action, "SendCtrlAltDel") == 0) {
		if (ctx->state == API_NOT_STARTED) {
			api_reply_fault(resp, 400, "SendCtrlAltDel: the microVM is not running");
			return;
		}
		if (ctx->be && ctx->be->ctrl_alt_del(ctx->opaque, err, sizeof(err))) {
			api_reply_fault(resp, 400, "SendCtrlAltDel: %s", err);
			return;
		}
		api_reply_empty(resp);
	} else if (strcmp(action, "FlushMetrics") == 0) {
		if (!ctx->metrics) {
			api_reply_fault(resp, 400,
					"FlushMetrics: the metrics system is not configured (PUT /metrics first)");
			return;
		}
		if (ctx->be && ctx->be->flush_metrics(ctx->opaque, err, sizeof(err))) {
			api_reply_fault(resp, 400, "FlushMetrics: %s", err);
			return;
		}
		api_reply_empty(resp);
	} else {
		api_reply_fault(resp, 400,
				"PUT /actions: unknown action_type '%.64s' (InstanceStart, SendCtrlAltDel, FlushMetrics)",
				action);
	}
}

void api_patch_vm(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	const char *state = NULL;
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s:s}", "state", &state))
		return;
	if (strcmp(state, "Paused") != 0 && strcmp(state, "Resumed") != 0) {
		api_reply_fault(resp, 400, "PATCH /vm: state must be Paused or Resumed, not '%.64s'",
				state);
		return;
	}
	if (ctx->state == API_NOT_STARTED) {
		api_reply_fault(resp, 400, "PATCH /vm: the microVM has not been started");
		return;
	}
	if (strcmp(state, "Paused") == 0) {
		if (ctx->state == API_PAUSED) {
			api_reply_fault(resp, 400, "PATCH /vm: the microVM is already paused");
			return;
		}
		if (ctx->be && ctx->be->pause(ctx->opaque, err, sizeof(err))) {
			api_reply_fault(resp, 400, "PATCH /vm: cannot pause: %s", err);
			return;
		}
		ctx->state = API_PAUSED;
	} else {
		if (ctx->state != API_PAUSED) {
			api_reply_fault(resp, 400, "PATCH /vm: the microVM is not paused");
			return;
		}
		if (ctx->be && ctx->be->resume(ctx->opaque, err, sizeof(err))) {
			api_reply_fault(resp, 400, "PATCH /vm: cannot resume: %s", err);
			return;
		}
		ctx->state = API_RUNNING;
	}
	api_reply_empty(resp);
}
