// SPDX-License-Identifier: Apache-2.0
/*
 * The control API's request handling (api_handle) in a dry context (no
 * VM): each input is a sequence of requests sent to one context, so that
 * configuration, InstanceStart, pause and resume and the requests that
 * depend on them are all reached. One request is
 *
 *   [selector] [path bytes] 0x00 [length: 2 bytes LE] [body: length bytes]
 *
 * selector & 0x0f picks the method from the table below (odd ones
 * included); selector & 0x10 passes a NULL body instead of an empty one.
 * A missing NUL ends the path at the end of the input; a length past the
 * end takes what is left. The body is copied into a buffer of exactly its
 * size (not NUL-terminated), as the HTTP server hands it over.
 *
 * Every response must be well formed: a status from 200 to 599, no body
 * with 204, otherwise a JSON body, and a fault_message on errors. And the
 * state GET / reports must be the one the accepted requests lead to:
 * "Not started" until InstanceStart, then "Running", "Paused" after
 * PATCH /vm Paused until PATCH /vm Resumed; PUT /snapshot/load only on a
 * machine not started (then "Running" with resume_vm, else "Paused"),
 * PUT /snapshot/create only on a paused one.
 * FUZZ_API_TRACE=1 in the environment prints each request and answer to
 * stderr (to check what a seed reaches: build/fuzz/fuzz_api SEED).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "base/log.h"

#define FUZZ_MAX_REQS 48

static int trace;

/* The instance state the accepted requests so far lead to. */
static const char *model_state;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[16] = {
	"GET", "PUT", "PATCH", "GET", "PUT", "PATCH", "POST", "DELETE",
	"HEAD", "OPTIONS", "", "get", "PUTT", "PU", "GET ", "\xff",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* Rejected requests may be logged; keep the fuzzer's output readable. */
	log_set_level(LOG_LEVEL_ERROR);
	trace = getenv("FUZZ_API_TRACE") != NULL;
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return 0;
}

static void check_response(const struct api_response *resp)
{
	json_t *j, *fm;

	if (resp->status < 200 || resp->status > 599)
		abort();
	if (resp->status == 204) {
		if (resp->body)
			abort();
		return;
	}
	if (!resp->body)
		abort();
	j = json_loads(resp->body, JSON_DECODE_ANY, NULL);
	if (!j)
		abort();
	if (resp->status >= 400) {
		fm = json_is_object(j) ? json_object_get(j, "fault_message") : NULL;
		if (!json_is_string(fm))
			abort();
	}
	json_decref(j);
}

/* The string member key of a JSON object body, or NULL. */
static const char *body_member(json_t *j, const char *key)
{
	json_t *v = json_is_object(j) ? json_object_get(j, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Follows the state machine, and checks GET / against it. */
static void check_state(const char *method, const char *path, const char *body, size_t len,
			const struct api_response *resp)
{
	const char *v;
	json_t *j;

	if (strcmp(method, "GET") == 0 && strcmp(path, "/") == 0 && resp->status == 200) {
		j = json_loads(resp->body, 0, NULL);
		v = body_member(j, "state");
		if (!v || strcmp(v, model_state) != 0)
			abort();
		json_decref(j);
		return;
	}
	if (resp->status != 204 || !body)
		return;
	j = json_loadb(body, len, 0, NULL);
	if (strcmp(method, "PUT") == 0 && strcmp(path, "/actions") == 0) {
		v = body_member(j, "action_type");
		if (v && strcmp(v, "InstanceStart") == 0) {
			if (strcmp(model_state, "Not started") != 0)
				abort(); /* started twice */
			model_state = "Running";
		}
	} else if (strcmp(method, "PATCH") == 0 && strcmp(path, "/vm") == 0) {
		v = body_member(j, "state");
		if (strcmp(model_state, "Not started") == 0)
			abort(); /* paused or resumed before start */
		if (v && strcmp(v, "Paused") == 0)
			model_state = "Paused";
		else if (v && strcmp(v, "Resumed") == 0)
			model_state = "Running";
	} else if (strcmp(method, "PUT") == 0 && strcmp(path, "/snapshot/load") == 0) {
		if (strcmp(model_state, "Not started") != 0)
			abort(); /* loaded into a started machine */
		model_state = json_is_true(json_object_get(j, "resume_vm")) ? "Running" : "Paused";
	} else if (strcmp(method, "PUT") == 0 && strcmp(path, "/snapshot/create") == 0) {
		if (strcmp(model_state, "Paused") != 0)
			abort(); /* a snapshot of a machine not paused */
	}
	json_decref(j);
}

/* One request in copies of exactly the right size; frees the response. */
static void request(struct api_ctx *ctx, const char *method, const uint8_t *path, size_t pathlen,
		    const uint8_t *body, size_t len, int null_body)
{
	struct api_response resp = { 0, NULL };
	char *m = strdup(method), *p = malloc(pathlen + 1), *b = NULL;

	if (!m || !p)
		goto out;
	memcpy(p, path, pathlen);
	p[pathlen] = '\0';
	if (len > 0 || !null_body) {
		b = malloc(len ? len : 1);
		if (!b)
			goto out;
		memcpy(b, body, len);
	}
	api_handle(ctx, m, p, b, len, &resp);
	if (trace)
		fprintf(stderr, "%s %s (%zu bytes) -> %u %.300s\n", m, p, len, resp.status,
			resp.body ? resp.body : "");
	check_response(&resp);
	check_state(m, p, b, len, &resp);
	free(resp.body);
out:
	free(b);
	free(p);
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_ctx *ctx = api_ctx_create(NULL, NULL);
	size_t off = 0;

	if (!ctx)
		return 0;
	model_state = "Not started";
	for (unsigned n = 0; n < FUZZ_MAX_REQS && off < size; n++) {
		uint8_t sel = data[off++];
		const uint8_t *path = data + off, *nul;
		size_t pathlen, len = 0;

		nul = memchr(path, 0, size - off);
		pathlen = nul ? (size_t)(nul - path) : size - off;
		off += pathlen + (nul ? 1 : 0);
		if (off + 2 <= size) {
			len = (size_t)data[off] | (size_t)data[off + 1] << 8;
			off += 2;
		} else {
			off = size;
		}
		if (len > size - off)
			len = size - off;
		request(ctx, methods[sel & 0x0f], path, pathlen, data + off, len, sel & 0x10);
		off += len;
	}
	/* Whatever state was reached must serialise. */
	request(ctx, "GET", (const uint8_t *)"/vm/config", 10, NULL, 0, 1);
	request(ctx, "GET", (const uint8_t *)"/", 1, NULL, 0, 1);
	api_ctx_destroy(ctx);
	return 0;
}
