/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Firecracker-compatible control API (../shared/reference/
 * firecracker-api.yaml): request handling, separate from the HTTP server
 * so that it can be unit tested and fuzzed without sockets.
 *
 * api_handle() takes one request (method, path, body) and produces one
 * response (status code and JSON body or none). Before InstanceStart the
 * requests build up a struct vm_config; InstanceStart validates it and
 * asks the backend to boot it; later requests act on the running machine
 * through the backend (pause, resume, Ctrl-Alt-Del, balloon, run-time
 * drive and interface updates, metrics).
 */
#ifndef OSPREY_API_API_H
#define OSPREY_API_API_H

#include <stddef.h>

/* Largest request body accepted (Firecracker's limit). */
#define API_MAX_BODY 51200

struct api_response {
	unsigned status; /* HTTP status code */
	char *body;	 /* malloc'd JSON text, or NULL for no body (204) */
};

struct api_backend; /* defined in api/backend.h: what a running VMM does */
struct api_ctx;

/*
 * A context with no machine yet. backend NULL: a "dry" context in which
 * every request is parsed and validated and InstanceStart and later
 * actions succeed without any VM (unit tests and fuzzing).
 */
struct api_ctx *api_ctx_create(const struct api_backend *backend, void *opaque);
void api_ctx_destroy(struct api_ctx *ctx);

/*
 * Handles one request. method is "GET", "PUT", "PATCH", ...; path is the
 * request path without query string; body may be NULL when len is 0 (it
 * need not be NUL-terminated). Never fails: errors are 4xx/5xx responses
 * with a {"fault_message": "..."} body. The caller frees resp->body.
 */
void api_handle(struct api_ctx *ctx, const char *method, const char *path, const char *body,
		size_t len, struct api_response *resp);

#endif
