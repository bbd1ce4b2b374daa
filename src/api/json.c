// SPDX-License-Identifier: Apache-2.0
/* JSON helpers shared by the request handlers: replies, strict unpacking, rate limiters. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned c = s[0], n, min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Fault messages quote the request's path and fields, which may hold
 * bytes that are not UTF-8 (or a character cut by the length limit);
 * JSON strings must be UTF-8, so each invalid byte becomes '?'.
 */
void api_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_seq_len(p);

		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

void api_reply_fault(struct api_response *resp, unsigned status, const char *fmt, ...)
{
	char msg[API_ERR_MAX];
	json_t *obj;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_utf8_sanitize(msg);
	resp->status = status;
	free(resp->body);
	resp->body = NULL;
	obj = json_pack("{s:s}", "fault_message", msg);
	if (obj) {
		resp->body = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
	}
	/* Out of memory: a fixed answer still has the contract's shape. */
	if (!resp->body)
		resp->body = strdup("{\"fault_message\":\"out of memory\"}");
}

void api_reply_json(struct api_response *resp, json_t *obj)
{
	free(resp->body);
	resp->body = NULL;
	if (!obj) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	resp->body = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (!resp->body) {
		api_reply_fault(resp, 500, "out of memory");
		return;
	}
	resp->status = 200;
}

void api_reply_empty(struct api_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->status = 204;
}

int api_unpack(const struct api_req *req, struct api_response *resp, json_t *obj,
	       const char *fmt, ...)
{
	json_error_t jerr;
	va_list ap;
	int ret;

	if (!obj) {
		api_reply_fault(resp, 400, "%s %s: a JSON object body is required", req->method,
				req->path);
		return -EINVAL;
	}
	va_start(ap, fmt);
	ret = json_vunpack_ex(obj, &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	if (ret) {
		api_reply_fault(resp, 400, "%s %s: invalid body: %s", req->method, req->path,
				jerr.text);
		return -EINVAL;
	}
	return 0;
}

void api_drop_nulls(json_t *obj)
{
	const char *key;
	json_t *v;
	void *tmp;

	if (!json_is_object(obj))
		return;
	json_object_foreach_safe(obj, tmp, key, v)
	{
		if (json_is_null(v))
			json_object_del(obj, key);
	}
}

/*
 * A member that must be an object when given (what names it): drops its
 * null members. -EINVAL: the fault is in resp.
 */
static int check_object(const struct api_req *req, struct api_response *resp, json_t *obj,
			const char *what)
{
	api_drop_nulls(obj);
	if (!json_is_object(obj)) {
		api_reply_fault(resp, 400, "%s %s: %s must be an object", req->method, req->path,
				what);
		return -EINVAL;
	}
	return 0;
}

static int parse_bucket(const struct api_req *req, struct api_response *resp, json_t *obj,
			const char *what, struct rate_bucket_config *b)
{
	json_int_t size = 0, burst = 0, refill = 0;

	memset(b, 0, sizeof(*b));
	if (!obj)
		return 0;
	if (check_object(req, resp, obj, what))
		return -EINVAL;
	if (api_unpack(req, resp, obj, "{s:I, s?I, s:I}", "size", &size, "one_time_burst", &burst,
		       "refill_time", &refill))
		return -EINVAL;
	if (size < 0 || burst < 0 || refill < 0) {
		api_reply_fault(resp, 400, "%s %s: %s: size, one_time_burst and refill_time must not be negative",
				req->method, req->path, what);
		return -EINVAL;
	}
	b->size = (uint64_t)size;
	b->one_time_burst = (uint64_t)burst;
	b->refill_time_ms = (uint64_t)refill;
	return 0;
}

int api_parse_rate_limiter(const struct api_req *req, struct api_response *resp, json_t *obj,
			   const char *what, struct rate_limiter_config *out)
{
	json_t *bw = NULL, *ops = NULL;
	char sub[64];

	memset(out, 0, sizeof(*out));
	if (!obj)
		return 0;
	if (check_object(req, resp, obj, what))
		return -EINVAL;
	if (api_unpack(req, resp, obj, "{s?o, s?o}", "bandwidth", &bw, "ops", &ops))
		return -EINVAL;
	snprintf(sub, sizeof(sub), "%s.bandwidth", what);
	if (parse_bucket(req, resp, bw, sub, &out->bandwidth))
		return -EINVAL;
	snprintf(sub, sizeof(sub), "%s.ops", what);
	return parse_bucket(req, resp, ops, sub, &out->ops);
}

static json_t *bucket_json(const struct rate_bucket_config *b)
{
	return json_pack("{s:I, s:I, s:I}", "size", (json_int_t)b->size, "one_time_burst",
			 (json_int_t)b->one_time_burst, "refill_time", (json_int_t)b->refill_time_ms);
}

json_t *api_rate_limiter_json(const struct rate_limiter_config *rl)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (rl->bandwidth.size || rl->bandwidth.refill_time_ms || rl->bandwidth.one_time_burst)
		json_object_set_new(o, "bandwidth", bucket_json(&rl->bandwidth));
	if (rl->ops.size || rl->ops.refill_time_ms || rl->ops.one_time_burst)
		json_object_set_new(o, "ops", bucket_json(&rl->ops));
	return o;
}

int api_str_set(const char **slot, const char *v)
{
	char *copy = NULL;

	if (v) {
		copy = strdup(v);
		if (!copy)
			return -ENOMEM;
	}
	free((void *)(uintptr_t)*slot);
	*slot = copy;
	return 0;
}

void api_str_free(const char **slot)
{
	free((void *)(uintptr_t)*slot);
	*slot = NULL;
}

bool api_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > API_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}
