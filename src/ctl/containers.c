// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-ctl containers / list: containers (from osprey-oci's state
 * directory) and, for `list`, the VM behind the API socket, one table.
 */
#include "ctl/containers.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"

static const char containers_usage[] =
	"usage: osprey-ctl containers [--root DIR] [--runtime PATH] [--format table|json] [-q]\n"
	"       osprey-ctl list [same options]   (also the VM behind --sock, if given)\n"
	"  --root DIR      the runtime's state directory (default /run/osprey-oci)\n"
	"  --runtime PATH  osprey-oci (default: $OSPREY_OCI, beside osprey-ctl, or PATH)\n"
	"  --format F      table (default) or json\n"
	"  -q, --quiet     ids only\n";

#define ROW_FMT "%-10s %-24s %-8s %-12s %-40s %s\n"

int ctl_containers_is_cmd(const char *name)
{
	return !strcmp(name, "containers") || !strcmp(name, "list");
}

static const char *str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

int ctl_containers_print(FILE *out, const char *text, size_t len, int json, int header,
			 char *err, size_t errlen)
{
	json_error_t je;
	json_t *arr = json_loadb(text, len, 0, &je), *row;
	size_t i;
	int n = 0;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "the runtime's list is not a JSON array%s%s",
			 arr ? "" : ": ", arr ? "" : je.text);
		json_decref(arr);
		return -EINVAL;
	}
	json_array_foreach(arr, i, row) {
		if (!json_is_object(row) || !json_is_string(json_object_get(row, "id"))) {
			snprintf(err, errlen, "the runtime's list: entry %zu has no id", i);
			json_decref(arr);
			return -EINVAL;
		}
	}
	if (header > 0 && !json)
		fprintf(out, ROW_FMT, "KIND", "ID", "PID", "STATUS", "BUNDLE/SOCKET", "CREATED");
	json_array_foreach(arr, i, row) {
		json_t *pid = json_object_get(row, "pid");
		char pidbuf[24];

		if (json) {
			json_object_set_new(row, "kind", json_string("container"));
			continue;
		}
		if (json_is_integer(pid) && json_integer_value(pid) > 0)
			snprintf(pidbuf, sizeof(pidbuf), "%lld", (long long)json_integer_value(pid));
		else
			snprintf(pidbuf, sizeof(pidbuf), "-");
		if (header < 0) /* quiet */
			fprintf(out, "%s\n", str_or(row, "id", "?"));
		else
			fprintf(out, ROW_FMT, "container", str_or(row, "id", "?"), pidbuf,
				str_or(row, "status", "?"), str_or(row, "bundle", "-"),
				str_or(row, "created", "-"));
		n++;
	}
	if (json) {
		json_dumpf(arr, out, JSON_INDENT(2));
		fputc('\n', out);
		n = (int)json_array_size(arr);
	}
	json_decref(arr);
	return n;
}

/* osprey-oci: --runtime, $OSPREY_OCI, beside this program, or from PATH */
static void find_runtime(const char *given, char *buf, size_t cap)
{
	const char *env = getenv("OSPREY_OCI");
	char self[PATH_MAX];
	ssize_t n;

	if (given && *given) {
		snprintf(buf, cap, "%s", given);
		return;
	}
	if (env && *env) {
		snprintf(buf, cap, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if ((size_t)snprintf(buf, cap, "%s/osprey-oci", self) < cap &&
			    access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, cap, "osprey-oci");
}

/* Runs `RUNTIME [--root DIR] list --format json`; its stdout in *out. */
static int runtime_list(const char *runtime, const char *root, char **out, size_t *outlen,
			char *err, size_t errlen)
{
	const char *argv[8];
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int p[2], st, k = 0;
	pid_t pid;
	ssize_t r;

	if (!buf || pipe2(p, O_CLOEXEC) < 0) {
		free(buf);
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	argv[k++] = runtime;
	if (root) {
		argv[k++] = "--root";
		argv[k++] = root;
	}
	argv[k++] = "list";
	argv[k++] = "--format";
	argv[k++] = "json";
	argv[k] = NULL;
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		free(buf);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp(runtime, (char *const *)(uintptr_t)argv);
		fprintf(stderr, "osprey-ctl: error: %s: %s\n", runtime, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		if (len + 1 >= cap) {
			char *nb;

			if (cap >= CTL_MAX_RESPONSE)
				break;
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(p[0], buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	buf[len] = '\0';
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "%.200s list failed (status %d)", runtime,
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* The VM behind sock: GET / (id and state). */
static int vm_row(const char *sock, long timeout_ms, bool json, bool quiet, json_t *jarr)
{
	struct ctl_http *h = NULL;
	struct ctl_response resp = { 0 };
	char err[512];
	json_t *info = NULL;
	int ret;

	ret = ctl_http_open(sock, timeout_ms, &h);
	if (!ret)
		ret = ctl_http_send(h, "GET", "/", NULL, 0, &resp, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", strerror(-ret));
	if (h)
		ctl_http_close(h);
	if (!ret && resp.status == 200 && resp.body)
		info = json_loadb(resp.body, resp.len, 0, NULL);
	ctl_response_free(&resp);
	if (!json_is_object(info)) {
		fprintf(stderr, "osprey-ctl: error: %s: %s\n", sock,
			ret ? err : "GET / gave no instance information");
		json_decref(info);
		return 1;
	}
	if (json)
		json_array_append_new(jarr, json_pack("{s:s, s:s, s:s, s:s}", "kind", "vm", "id",
						      str_or(info, "id", "?"), "status",
						      str_or(info, "state", "?"), "socket", sock));
	else if (quiet)
		printf("%s\n", str_or(info, "id", "?"));
	else
		printf(ROW_FMT, "vm", str_or(info, "id", "?"), "-", str_or(info, "state", "?"),
		       sock, "-");
	json_decref(info);
	return 0;
}

int ctl_containers_main(int argc, char **argv, const char *sock, long timeout_ms)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "runtime", required_argument, NULL, 'R' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool is_list = !strcmp(argv[0], "list"), json = false, quiet = false;
	const char *root = NULL, *given = NULL;
	char runtime[PATH_MAX], err[1024];
	json_t *jarr = NULL;
	char *text = NULL;
	size_t len = 0;
	int c, status = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:R:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'R':
			given = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "osprey-ctl: error: --format is table or json\n");
				return 2;
			}
			json = !strcmp(optarg, "json");
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(containers_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "osprey-ctl: error: %s: bad option '%s'\n%s", argv[0],
				argv[optind - 1], containers_usage);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "osprey-ctl: error: %s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		return 2;
	}
	if (!is_list)
		sock = NULL;
	if (json)
		jarr = json_array();
	else if (!quiet)
		printf(ROW_FMT, "KIND", "ID", "PID", "STATUS", "BUNDLE/SOCKET", "CREATED");
	if (sock && *sock)
		status = vm_row(sock, timeout_ms, json, quiet, jarr);
	find_runtime(given, runtime, sizeof(runtime));
	if (runtime_list(runtime, root, &text, &len, err, sizeof(err)) == 0) {
		if (json) {
			json_t *rows = json_loadb(text, len, 0, NULL), *row;
			size_t i;

			if (!json_is_array(rows)) {
				fprintf(stderr, "osprey-ctl: error: the runtime's list is not JSON\n");
				status = 1;
			}
			json_array_foreach(rows, i, row) {
				if (json_is_object(row))
					json_object_set_new(row, "kind", json_string("container"));
				json_array_append(jarr, row);
			}
			json_decref(rows);
		} else if (ctl_containers_print(stdout, text, len, 0, quiet ? -1 : 0, err,
						sizeof(err)) < 0) {
			fprintf(stderr, "osprey-ctl: error: %s\n", err);
			status = 1;
		}
		free(text);
	} else {
		fprintf(stderr, "osprey-ctl: error: containers: %s\n", err);
		status = 1;
	}
	if (json) {
		json_dumpf(jarr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(jarr);
	}
	return status;
}
