/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the request handling (api.h): the context, the route table's
 * handler signature and the helpers the handlers share. Not for use
 * outside src/api.
 */
#ifndef OSPREY_API_INTERNAL_H
#define OSPREY_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "api/backend.h"
#include "vmm/config.h"

#define API_ERR_MAX 512
/* Firecracker's identifier rule for drive and interface ids. */
#define API_ID_MAX 64
/* Largest MMDS data store kept (serialised bytes), Firecracker's default. */
#define API_MMDS_MAX 51200
/* Firecracker's default memory size when machine-config is never PUT. */
#define API_DEFAULT_MEM_MIB 128

enum api_state {
	API_NOT_STARTED,
	API_RUNNING,
	API_PAUSED,
};

/* Per-drive fields the API keeps beside struct vm_disk_config. */
struct api_drive {
	char *partuuid;
	bool is_root;
	bool cache_unsafe; /* cache_type "Unsafe" (the default) */
	bool has_rate_limiter;
};

struct api_net {
	char mac[18]; /* as given; "" when absent */
	bool has_rx, has_tx;
};

struct api_ctx {
	const struct api_backend *be; /* NULL: dry */
	void *opaque;
	enum api_state state;

	/*
	 * What the requests built. Every string in it is owned by the context
	 * (strdup'd; replaced with api_str_set, freed at destroy).
	 * cfg.cmdline holds boot_args as given.
	 */
	struct vm_config cfg;
	/* The deep copy InstanceStart handed to the backend (kept until destroy). */
	struct vm_config *boot;

	bool has_boot_source;
	char *cpu_template; /* as given: "None", "host", "emulated" */
	bool smt, track_dirty_pages;
	struct api_drive drives[VM_MAX_DISKS];
	struct api_net nets[VM_MAX_NETS];
	bool has_rng_rate_limiter;
	bool has_serial;
	json_t *logger, *metrics; /* the accepted bodies, for GET /vm/config */
	json_t *mmds;		  /* the MMDS data store (an object) */
	char *instance_id;
};

struct api_req {
	const char *method;
	const char *path;
	const char *id; /* the {id} path segment, or NULL */
	json_t *body;	/* an object with null members removed; NULL if no body */
};

typedef void (*api_handler_fn)(struct api_ctx *ctx, const struct api_req *req,
			       struct api_response *resp);

/* ---- json.c ---- */

/* Replaces every byte of s that is not part of valid UTF-8 with '?'. */
void api_utf8_sanitize(char *s);

void api_reply_fault(struct api_response *resp, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 200 with obj as the body (takes the reference; NULL: 500). */
void api_reply_json(struct api_response *resp, json_t *obj);
void api_reply_empty(struct api_response *resp); /* 204 */

/*
 * json_unpack_ex with JSON_STRICT (unknown members and wrong types are
 * errors). On failure answers 400 naming the problem and returns -EINVAL.
 */
int api_unpack(const struct api_req *req, struct api_response *resp, json_t *obj,
	       const char *fmt, ...);
/* Removes members whose value is null (Firecracker's optional fields accept null). */
void api_drop_nulls(json_t *obj);

/* RateLimiter {bandwidth: TokenBucket, ops: TokenBucket}; 400 on errors. */
int api_parse_rate_limiter(const struct api_req *req, struct api_response *resp, json_t *obj,
			   const char *what, struct rate_limiter_config *out);
json_t *api_rate_limiter_json(const struct rate_limiter_config *rl);

/* Replaces an owned string (v may be NULL). -ENOMEM leaves the old one. */
int api_str_set(const char **slot, const char *v);
void api_str_free(const char **slot);
/* Firecracker's id rule: 1 to 64 characters from [A-Za-z0-9_]. */
bool api_id_valid(const char *id);

/* ---- boot.c ---- */

/* The deep copy InstanceStart boots (command line composed, root drive first). */
int api_boot_config(const struct api_ctx *ctx, struct vm_config **out, char *err, size_t errlen);
void api_boot_config_free(struct vm_config *cfg);

/* ---- handlers_*.c ---- */

void api_get_instance(struct api_ctx *, const struct api_req *, struct api_response *);
void api_get_version(struct api_ctx *, const struct api_req *, struct api_response *);
void api_get_vm_config(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_boot_source(struct api_ctx *, const struct api_req *, struct api_response *);
void api_get_machine_config(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_machine_config(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_machine_config(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_actions(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_vm(struct api_ctx *, const struct api_req *, struct api_response *);

void api_put_drive(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_drive(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_net(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_net(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_vsock(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_entropy(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_serial(struct api_ctx *, const struct api_req *, struct api_response *);

void api_get_balloon(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_balloon(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_balloon(struct api_ctx *, const struct api_req *, struct api_response *);
void api_get_balloon_stats(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_balloon_stats(struct api_ctx *, const struct api_req *, struct api_response *);

void api_put_logger(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_metrics(struct api_ctx *, const struct api_req *, struct api_response *);
void api_get_mmds(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_mmds(struct api_ctx *, const struct api_req *, struct api_response *);
void api_patch_mmds(struct api_ctx *, const struct api_req *, struct api_response *);
void api_unsupported(struct api_ctx *, const struct api_req *, struct api_response *);

void api_put_snapshot_create(struct api_ctx *, const struct api_req *, struct api_response *);
void api_put_snapshot_load(struct api_ctx *, const struct api_req *, struct api_response *);

/* JSON of each part of the configuration (GET /vm/config, GET /machine-config...). */
json_t *api_machine_config_json(const struct api_ctx *ctx);
json_t *api_drives_json(const struct api_ctx *ctx);
json_t *api_nets_json(const struct api_ctx *ctx);
json_t *api_vsock_json(const struct api_ctx *ctx);
json_t *api_entropy_json(const struct api_ctx *ctx);
json_t *api_balloon_json(const struct api_ctx *ctx);

/* 400 unless the machine has not started yet. */
bool api_require_not_started(struct api_ctx *ctx, const struct api_req *req,
			     struct api_response *resp);

#endif
