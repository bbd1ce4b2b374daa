// SPDX-License-Identifier: Apache-2.0
/* osprey-ctl: global options, then one subcommand's requests in order. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "cli/cli.h" /* OSPREY_VERSION */
#include "ctl/containers.h"
#include "ctl/ctl.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

__attribute__((format(printf, 1, 2))) static void error(const char *fmt, ...)
{
	va_list ap;

	fputs("osprey-ctl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The response body on stdout: indented when it is JSON, as is otherwise. */
static void show(const struct ctl_response *resp)
{
	json_t *j;

	if (!resp->body || resp->len == 0)
		return;
	j = json_loadb(resp->body, resp->len, JSON_DECODE_ANY, NULL);
	if (j) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
		fputc('\n', stdout);
		json_decref(j);
		return;
	}
	fwrite(resp->body, 1, resp->len, stdout);
	if (resp->body[resp->len - 1] != '\n')
		fputc('\n', stdout);
}

/* --verbose: each request and its status on stderr. */
static bool verbose;

static int run_request(struct ctl_http *h, const struct ctl_req *r)
{
	struct ctl_response resp;
	char err[512], fault[1024];
	const char *body = r->raw;
	char *json = NULL;
	int ret;

	if (r->body) {
		json = json_dumps(r->body, JSON_COMPACT);
		if (!json) {
			error("%s %s: out of memory", r->method, r->path);
			return EXIT_FAILED;
		}
		body = json;
	} else if (!body && strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		body = ""; /* Content-Length: 0 */
	}
	if (verbose)
		fprintf(stderr, "> %s %s%s%s\n", r->method, r->path, body && *body ? " " : "",
			body ? body : "");
	ret = ctl_http_send(h, r->method, r->path, body, body ? strlen(body) : 0, &resp, err,
			    sizeof(err));
	free(json);
	if (ret) {
		error("%s", err);
		return EXIT_FAILED;
	}
	if (verbose)
		fprintf(stderr, "< %ld\n", resp.status);
	if (resp.status >= 400 || resp.status < 200) {
		if (ctl_fault_message(resp.body, resp.len, fault, sizeof(fault)) == 0)
			snprintf(fault, sizeof(fault), "no details given");
		error("%s %s: HTTP %ld: %s", r->method, r->path, resp.status, fault);
		ctl_response_free(&resp);
		return EXIT_FAILED;
	}
	if (r->show)
		show(&resp);
	ctl_response_free(&resp);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sock", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("OSPREY_API_SOCK");
	struct ctl_http *h = NULL;
	struct ctl_plan plan;
	uint64_t timeout_s = 30;
	char err[1024];
	int c, ret, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:s:t:vVh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &timeout_s) || timeout_s == 0 || timeout_s > 86400) {
				error("--timeout '%s': seconds from 1 to 86400", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("osprey-ctl %s\n", OSPREY_VERSION);
			return 0;
		case 'h':
			fputs(ctl_usage(), stdout);
			return 0;
		case ':':
			error("option '%s' needs a value", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			error("unknown option '%s' (see 'osprey-ctl --help')", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(ctl_usage(), stderr);
		return EXIT_USAGE;
	}
	if (ctl_containers_is_cmd(argv[optind])) /* containers, list: src/ctl/containers.c */
		return ctl_containers_main(argc - optind, argv + optind, sock, (long)timeout_s * 1000);
	if (ctl_plan_build(argc - optind, argv + optind, &plan, err, sizeof(err))) {
		error("%s", err);
		return EXIT_USAGE;
	}
	if (plan.usage) {
		fputs(plan.usage, stdout);
		goto out;
	}
	if (!sock || !*sock) {
		error("no API socket: give --sock PATH or set OSPREY_API_SOCK");
		status = EXIT_USAGE;
		goto out;
	}
	ret = ctl_http_open(sock, (long)timeout_s * 1000, &h);
	if (ret) {
		error("%s: %s", sock, strerror(-ret));
		status = EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < plan.n && status == 0; i++)
		status = run_request(h, &plan.req[i]);
	ctl_http_close(h);
out:
	ctl_plan_free(&plan);
	if (fflush(stdout) != 0 && status == 0) {
		error("stdout: %s", strerror(errno));
		status = EXIT_FAILED;
	}
	return status;
}
