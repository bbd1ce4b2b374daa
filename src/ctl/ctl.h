/* SPDX-License-Identifier: Apache-2.0 */
/*
 * osprey-ctl: a command-line client for osprey's Firecracker-compatible
 * API (docs/ctl.md). A separate program from osprey:
 *
 *   plan.c  a subcommand's arguments -> the HTTP requests it makes (pure:
 *           no I/O, unit tested in tests/unit/test_ctl.c)
 *   http.c  one persistent connection to the API socket (libcurl)
 *   main.c  global options, running a plan, printing the answers
 */
#ifndef OSPREY_CTL_CTL_H
#define OSPREY_CTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_REQS 40
#define CTL_MAX_DISKS 16
#define CTL_MAX_NETS 16
#define CTL_PATH_MAX 1024
/* Largest response body kept; anything longer is an error. */
#define CTL_MAX_RESPONSE (16u << 20)

struct ctl_req {
	const char *method;
	char path[CTL_PATH_MAX];
	json_t *body;	 /* owned; NULL: no JSON body */
	const char *raw; /* body text as given (raw subcommand); not owned */
	bool show;	 /* print the response body; otherwise success is silent */
};

struct ctl_plan {
	struct ctl_req req[CTL_MAX_REQS];
	size_t n;
	const char *usage; /* --help was asked: print this, send nothing */
};

/*
 * Builds the requests for one subcommand; argv[0] is its name. Returns 0
 * (plan->usage set for --help), or -EINVAL with a message in err for bad
 * usage. Never prints. Free the plan with ctl_plan_free() either way.
 */
int ctl_plan_build(int argc, char **argv, struct ctl_plan *plan, char *err, size_t errlen);
void ctl_plan_free(struct ctl_plan *plan);

/* The top-level usage text. */
const char *ctl_usage(void);

/*
 * One line for humans from an error response body: its fault_message, or
 * the body itself, control characters replaced. Returns the length
 * written (truncated to buflen - 1); 0 when there is nothing to say.
 */
size_t ctl_fault_message(const char *body, size_t len, char *buf, size_t buflen);

struct ctl_http;

struct ctl_response {
	long status;
	char *body; /* malloc'd, NUL-terminated; NULL when empty */
	size_t len;
};

/* A client for the API socket at sock; connects on the first request. */
int ctl_http_open(const char *sock, long timeout_ms, struct ctl_http **out);
/*
 * Sends one request (body NULL: none) and reads the response. Returns 0
 * with any HTTP status, or -errno with a message in err when no response
 * came back (connection refused, timeout, ...).
 */
int ctl_http_send(struct ctl_http *h, const char *method, const char *path, const char *body,
		  size_t len, struct ctl_response *resp, char *err, size_t errlen);
void ctl_response_free(struct ctl_response *resp);
void ctl_http_close(struct ctl_http *h);

#endif
