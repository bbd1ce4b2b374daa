// SPDX-License-Identifier: Apache-2.0
/* /balloon and /balloon/statistics (virtio-balloon, virtio/balloon.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "api/internal.h"
#include "virtio/balloon.h"

#define MIB (1ULL << 20)

static bool need_balloon(struct api_ctx *ctx, const struct api_req *req,
			 struct api_response *resp)
{
	if (ctx->cfg.balloon.enabled)
		return true;
	api_reply_fault(resp, 400, "%s %s: no balloon device is configured", req->method,
			req->path);
	return false;
}

static int check_amount(const struct api_req *req, struct api_response *resp, json_int_t mib)
{
	if (mib < 0 || (uint64_t)mib > (UINT32_MAX * VIRTIO_BALLOON_PAGE_SIZE) / MIB) {
		api_reply_fault(resp, 400, "%s %s: amount_mib must be from 0 to %llu", req->method,
				req->path,
				(unsigned long long)((UINT32_MAX * VIRTIO_BALLOON_PAGE_SIZE) / MIB));
		return -EINVAL;
	}
	return 0;
}

static int check_interval(const struct api_req *req, struct api_response *resp, json_int_t s)
{
	if (s < 0 || s > VM_BALLOON_STATS_MAX) {
		api_reply_fault(resp, 400, "%s %s: stats_polling_interval_s must be from 0 to %d",
				req->method, req->path, VM_BALLOON_STATS_MAX);
		return -EINVAL;
	}
	return 0;
}

void api_put_balloon(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_int_t mib = 0, interval = 0;
	int deflate = 0, hinting = 0, reporting = 0;

	if (!api_require_not_started(ctx, req, resp))
		return;
	if (api_unpack(req, resp, req->body, "{s:I, s:b, s?I, s?b, s?b}", "amount_mib", &mib,
		       "deflate_on_oom", &deflate, "stats_polling_interval_s", &interval,
		       "free_page_hinting", &hinting, "free_page_reporting", &reporting) ||
	    check_amount(req, resp, mib) || check_interval(req, resp, interval))
		return;
	if (hinting || reporting) {
		api_reply_fault(resp, 400,
				"PUT /balloon: free_page_hinting and free_page_reporting are not supported");
		return;
	}
	ctx->cfg.balloon.enabled = true;
	ctx->cfg.balloon.target = (uint64_t)mib * MIB;
	ctx->cfg.balloon.deflate_on_oom = deflate;
	ctx->cfg.balloon.stats_interval = (unsigned)interval;
	api_reply_empty(resp);
}

void api_patch_balloon(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	json_int_t mib = 0;
	char err[API_ERR_MAX] = "";

	if (api_unpack(req, resp, req->body, "{s:I}", "amount_mib", &mib) ||
	    !need_balloon(ctx, req, resp) || check_amount(req, resp, mib))
		return;
	if ((uint64_t)mib * MIB > ctx->cfg.mem_size) {
		api_reply_fault(resp, 400, "PATCH /balloon: amount_mib %lld is more than the guest's %llu MiB",
				(long long)mib, (unsigned long long)(ctx->cfg.mem_size / MIB));
		return;
	}
	if (ctx->state != API_NOT_STARTED && ctx->be &&
	    ctx->be->balloon_set_target(ctx->opaque, (uint64_t)mib * MIB, err, sizeof(err))) {
		api_reply_fault(resp, 400, "PATCH /balloon: %s", err);
		return;
	}
	ctx->cfg.balloon.target = (uint64_t)mib * MIB;
	api_reply_empty(resp);
}

json_t *api_balloon_json(const struct api_ctx *ctx)
{
	const struct vm_balloon_config *b = &ctx->cfg.balloon;

	if (!b->enabled)
		return json_null();
	return json_pack("{s:I, s:b, s:I}", "amount_mib", (json_int_t)(b->target / MIB),
			 "deflate_on_oom", b->deflate_on_oom, "stats_polling_interval_s",
			 (json_int_t)b->stats_interval);
}

void api_get_balloon(struct api_ctx *ctx, const struct api_req *req, struct api_response *resp)
{
	if (need_balloon(ctx, req, resp))
		api_reply_json(resp, api_balloon_json(ctx));
}

static json_t *stats_json(const struct virtio_balloon_stats *st)
{
	static const struct {
		unsigned tag;
		const char *name;
	} names[] = {
		{ VIRTIO_BALLOON_S_SWAP_IN, "swap_in" },
		{ VIRTIO_BALLOON_S_SWAP_OUT, "swap_out" },
		{ VIRTIO_BALLOON_S_MAJFLT, "major_faults" },
		{ VIRTIO_BALLOON_S_MINFLT, "minor_faults" },
		{ VIRTIO_BALLOON_S_MEMFREE, "free_memory" },
		{ VIRTIO_BALLOON_S_MEMTOT, "total_memory" },
		{ VIRTIO_BALLOON_S_AVAIL, "available_memory" },
		{ VIRTIO_BALLOON_S_CACHES, "disk_caches" },
		{ VIRTIO_BALLOON_S_HTLB_PGALLOC, "hugetlb_allocations" },
		{ VIRTIO_BALLOON_S_HTLB_PGFAIL, "hugetlb_failures" },
	};
	json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "target_pages", (json_int_t)st->target_pages,
			      "actual_pages", (json_int_t)st->actual_pages, "target_mib",
			      (json_int_t)((uint64_t)st->target_pages * VIRTIO_BALLOON_PAGE_SIZE / MIB),
			      "actual_mib",
			      (json_int_t)((uint64_t)st->actual_pages * VIRTIO_BALLOON_PAGE_SIZE / MIB));

	for (size_t i = 0; o && i < sizeof(names) / sizeof(names[0]); i++)
		if (st->stats_valid & (1u << names[i].tag))
			json_object_set_new(o, names[i].name,
					    json_integer((json_int_t)st->stats[names[i].tag]));
	return o;
}

void api_get_balloon_stats(struct api_ctx *ctx, const struct api_req *req,
			   struct api_response *resp)
{
	struct virtio_balloon_stats st;
	char err[API_ERR_MAX] = "";

	if (!need_balloon(ctx, req, resp))
		return;
	if (!ctx->cfg.balloon.stats_interval) {
		api_reply_fault(resp, 400,
				"GET /balloon/statistics: statistics are not enabled (stats_polling_interval_s is 0)");
		return;
	}
	if (ctx->state == API_NOT_STARTED) {
		api_reply_fault(resp, 400,
				"GET /balloon/statistics: statistics are available once the microVM runs");
		return;
	}
	memset(&st, 0, sizeof(st));
	st.target_pages = (uint32_t)(ctx->cfg.balloon.target / VIRTIO_BALLOON_PAGE_SIZE);
	if (ctx->be && ctx->be->balloon_get_stats(ctx->opaque, &st, err, sizeof(err))) {
		api_reply_fault(resp, 400, "GET /balloon/statistics: %s", err);
		return;
	}
	api_reply_json(resp, stats_json(&st));
}

void api_patch_balloon_stats(struct api_ctx *ctx, const struct api_req *req,
			     struct api_response *resp)
{
	json_int_t interval = 0;
	unsigned cur = ctx->cfg.balloon.stats_interval;

	if (api_unpack(req, resp, req->body, "{s:I}", "stats_polling_interval_s", &interval) ||
	    !need_balloon(ctx, req, resp) || check_interval(req, resp, interval))
		return;
	if (ctx->state != API_NOT_STARTED && (unsigned)interval != cur) {
		if (!cur || !interval)
			api_reply_fault(resp, 400,
					"PATCH /balloon/statistics: statistics cannot be turned on or off after InstanceStart");
		else
			api_reply_fault(resp, 400,
					"PATCH /balloon/statistics: changing the interval of a running balloon is not supported yet");
		return;
	}
	ctx->cfg.balloon.stats_interval = (unsigned)interval;
	api_reply_empty(resp);
}
