// SPDX-License-Identifier: Apache-2.0
/*
 * Live migration requests, an osprey extension of the Firecracker API
 * (docs/migration.md):
 *   PUT /migrate {"destination_uri", "bandwidth_limit_mib_s", "downtime_limit_ms", "max_rounds"}
 *   GET /migrate          the active or last migration's status
 *   PUT /migrate/cancel   ends the active one; the machine keeps running
 */
#include "api/handlers_migration.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "migration/migration.h"

static bool need_backend(struct api_ctx *ctx, const struct api_req *req,
			 struct api_response *resp)
{
	if (!ctx->be || !ctx->be->migrate_start) {
		api_reply_fault(resp, 400, "%s %s: live migration is not available here",
				req->method, req->path);
		return false;
	}
	if (ctx->state == API_NOT_STARTED) {
		api_reply_fault(resp, 400, "%s %s: the microVM has not been started", req->method,
				req->path);
		return false;
	}
	return true;
}

void api_put_migrate(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	struct migration_params p = { 0 };
	const char *uri = NULL;
	json_int_t bw = 0, downtime = 0, rounds = 0;
	char err[API_ERR_MAX] = "";
	int ret;

	if (api_unpack(req, resp, req->body, "{s:s, s?I, s?I, s?I}", "destination_uri", &uri,
		       "bandwidth_limit_mib_s", &bw, "downtime_limit_ms", &downtime, "max_rounds",
		       &rounds))
		return;
	if (bw < 0 || bw > 1000000 || downtime < 0 || downtime > 3600000 || rounds < 0 ||
	    rounds > 10000) {
		api_reply_fault(resp, 400,
				"PUT /migrate: bandwidth_limit_mib_s (0..1000000), downtime_limit_ms (0..3600000) and max_rounds (0..10000) out of range");
		return;
	}
	if (strlen(uri) >= sizeof(p.uri)) {
		api_reply_fault(resp, 400, "PUT /migrate: destination_uri longer than %d bytes",
				MIGRATION_URI_MAX - 1);
		return;
	}
	if (!need_backend(ctx, req, resp))
		return;
	if (ctx->state != API_RUNNING) {
		api_reply_fault(resp, 400, "PUT /migrate: the microVM is paused; resume it first");
		return;
	}
	strcpy(p.uri, uri);
	p.bandwidth_bytes_per_s = (uint64_t)bw << 20;
	p.downtime_target_ms = (uint64_t)downtime;
	p.max_rounds = (unsigned)rounds;
	ret = ctx->be->migrate_start(ctx->opaque, &p, err, sizeof(err));
	if (ret) {
		api_reply_fault(resp, 400, "PUT /migrate: %s", err[0] ? err : strerror(-ret));
		return;
	}
	api_reply_empty(resp);
}

static const char *phase_name(enum migration_phase ph)
{
	switch (ph) {
	case MIGRATION_ACTIVE:
		return "Active";
	case MIGRATION_COMPLETED:
		return "Completed";
	case MIGRATION_FAILED:
		return "Failed";
	case MIGRATION_CANCELLED:
		return "Cancelled";
	default:
		return "None";
	}
}

void api_get_migrate(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	struct migration_status st;
	json_t *o;

	if (!need_backend(ctx, req, resp))
		return;
	ctx->be->migrate_status(ctx->opaque, &st);
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "state", phase_name(st.phase), "rounds",
		      (json_int_t)st.rounds, "pages_sent", (json_int_t)st.pages_sent, "bytes_sent",
		      (json_int_t)st.bytes_sent, "total_ms", (json_int_t)st.total_ms,
		      "downtime_ms", (json_int_t)st.downtime_ms);
	if (o && st.error[0]) {
		st.error[sizeof(st.error) - 1] = '\0';
		api_utf8_sanitize(st.error);
		json_object_set_new(o, "error", json_string(st.error));
	}
	api_reply_json(resp, o);
}

void api_put_migrate_cancel(struct api_ctx *ctx, const struct api_req *req,
			    struct api_response *resp)
{
	char err[API_ERR_MAX] = "";

	if (!need_backend(ctx, req, resp))
		return;
	if (ctx->be->migrate_cancel(ctx->opaque, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PUT /migrate/cancel: %s", err);
		return;
	}
	api_reply_empty(resp);
}
