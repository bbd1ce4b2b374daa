// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-ctl subcommands: arguments -> the API requests they make
 * (Firecracker's contract, ../shared/reference/firecracker-api.yaml).
 * Nothing here does I/O; bad usage is a message in err.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/parse.h"

struct ctl_cmd;
typedef int (*ctl_build_fn)(const struct ctl_cmd *cmd, int argc, char **argv,
			    struct ctl_plan *p, char *err, size_t errlen);

/*
 * A command that GETs cmd->path, or with its one option PATCHes cmd->path
 * with {key: value}.
 */
struct ctl_setting {
	const char *opt; /* the long option; its first letter is the short one */
	const char *key;
	int (*parse)(const char *what, const char *s, uint64_t *out, char *err, size_t errlen);
};

struct ctl_cmd {
	const char *name;
	const char *usage;
	ctl_build_fn build;
	/* simple commands: one request, a constant JSON body or none; build_get_patch: path */
	const char *method;
	const char *path;
	const char *body;
	bool show;
	/* build_get_patch commands: the option */
	const struct ctl_setting *setting;
};

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t errlen, const char *fmt,
						     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * Appends a request; takes ownership of body, also on failure. need_body:
 * body is a request's JSON, so NULL means a json_pack() failure.
 */
__attribute__((format(printf, 7, 0))) static int add_req_v(struct ctl_plan *p, const char *method,
							   json_t *body, bool need_body,
							   char *err, size_t errlen,
							   const char *pathfmt, va_list ap)
{
	struct ctl_req *r;
	int n;

	if (need_body && !body) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (p->n >= CTL_MAX_REQS) {
		json_decref(body);
		return bad(err, errlen, "too many requests (at most %d)", CTL_MAX_REQS);
	}
	r = &p->req[p->n];
	memset(r, 0, sizeof(*r));
	n = vsnprintf(r->path, sizeof(r->path), pathfmt, ap);
	if (n < 0 || (size_t)n >= sizeof(r->path)) {
		json_decref(body);
		return bad(err, errlen, "request path too long");
	}
	r->method = method;
	r->body = body;
	p->n++;
	return 0;
}

/* A request with a JSON body. */
__attribute__((format(printf, 6, 7))) static int add_json(struct ctl_plan *p, const char *method,
							  json_t *body, char *err, size_t errlen,
							  const char *pathfmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, pathfmt);
	ret = add_req_v(p, method, body, true, err, errlen, pathfmt, ap);
	va_end(ap);
	return ret;
}

/* A request without a JSON body; show: print the response. */
__attribute__((format(printf, 6, 7))) static int add_plain(struct ctl_plan *p, const char *method,
							   bool show, char *err, size_t errlen,
							   const char *pathfmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, pathfmt);
	ret = add_req_v(p, method, NULL, false, err, errlen, pathfmt, ap);
	va_end(ap);
	if (ret == 0)
		p->req[p->n - 1].show = show;
	return ret;
}

/* Option parsing errors from getopt_long (optstring starting with "+:"). */
static int getopt_bad(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return bad(err, errlen, "option '%s' needs a value", arg);
	if (optopt && arg[0] == '-' && arg[1] != '-')
		return bad(err, errlen, "unknown option '-%c'", optopt);
	return bad(err, errlen, "unknown option '%s'", arg);
}

static void getopt_reset(void)
{
	optind = 0; /* GNU: full re-initialisation, argv[0] skipped */
	opterr = 0;
}

/*
 * The options of a command with at most one option: --help and, unless
 * lopt is NULL, lopt (short option: its first letter) with a value, the
 * last one given in *val (NULL when not given). args: arguments may follow
 * (from argv[optind]; the caller checks them), else there must be none.
 * Returns 1 after --help (p->usage set), 0, or -EINVAL.
 */
static int getopt_one(const struct ctl_cmd *cmd, int argc, char **argv, const char *lopt,
		      const char **val, bool args, struct ctl_plan *p, char *err, size_t errlen)
{
	struct option opts[3] = { { NULL, 0, NULL, 0 } };
	char optstring[8] = "+:h";
	size_t n = 0;
	int c;

	if (lopt) {
		opts[n++] = (struct option){ lopt, required_argument, NULL, lopt[0] };
		snprintf(optstring, sizeof(optstring), "+:%c:h", lopt[0]);
	}
	opts[n] = (struct option){ "help", no_argument, NULL, 'h' };
	if (val)
		*val = NULL;
	getopt_reset();
	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		if (lopt && c == lopt[0]) {
			*val = optarg;
		} else if (c == 'h') {
			p->usage = cmd->usage;
			return 1;
		} else {
			return getopt_bad(c, argv, err, errlen);
		}
	}
	if (!args && optind < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* If tok is "key=VALUE", returns VALUE. */
static const char *opt_value(const char *tok, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(tok, key, n) == 0 && tok[n] == '=')
		return tok + n + 1;
	return NULL;
}

/* A device id goes into the request path: 1-64 URL-safe characters. */
static int check_id(const char *what, const char *id, char *err, size_t errlen)
{
	size_t n = strlen(id);

	if (n == 0 || n > 64 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789_-.~") != n)
		return bad(err, errlen,
			   "%s id '%s': 1 to 64 letters, digits, '_', '-', '.' or '~'", what,
			   id);
	return 0;
}

/*
 * A device's id: *id, or PREFIX<index> (written to defid) when none was
 * given; then checked as check_id does.
 */
static int device_id(const char *what, const char *prefix, unsigned index, const char **id,
		     char *defid, size_t defidlen, char *err, size_t errlen)
{
	if (!*id) {
		snprintf(defid, defidlen, "%s%u", prefix, index);
		*id = defid;
	}
	return check_id(what, *id, err, errlen);
}

static int parse_count(const char *what, const char *s, uint64_t max, uint64_t *out, char *err,
		       size_t errlen)
{
	if (parse_u64(s, out) || *out > max)
		return bad(err, errlen, "%s '%s': not a number from 0 to %llu", what, s,
			   (unsigned long long)max);
	return 0;
}

/* A size in MiB: "512", "512M", "2G", "2GiB" (see parse_size). */
static int parse_mib(const char *what, const char *s, uint64_t *mib, char *err, size_t errlen)
{
	uint64_t bytes;

	if (parse_size(s, 20, &bytes))
		return bad(err, errlen, "%s '%s': not a size (e.g. 512, 512M, 2G)", what, s);
	if (bytes & ((1u << 20) - 1))
		return bad(err, errlen, "%s '%s': not a whole number of MiB", what, s);
	*mib = bytes >> 20;
	return 0;
}

/* --disk PATH[,ro][,root][,id=ID][,cache=unsafe|writeback][,partuuid=UUID] */
static int add_disk(struct ctl_plan *p, const char *spec, unsigned index, char *err,
		    size_t errlen)
{
	char *copy, *rest, *tok, defid[16];
	const char *path, *id = NULL, *cache = NULL, *partuuid = NULL, *v;
	bool ro = false, root = false;
	json_t *body;
	int ret;

	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	path = strsep(&rest, ",");
	ret = -EINVAL;
	if (!*path) {
		bad(err, errlen, "--disk '%s': no file", spec);
		goto out;
	}
	while ((tok = strsep(&rest, ","))) {
		if (strcmp(tok, "ro") == 0) {
			ro = true;
		} else if (strcmp(tok, "rw") == 0) {
			ro = false;
		} else if (strcmp(tok, "root") == 0) {
			root = true;
		} else if ((v = opt_value(tok, "id"))) {
			id = v;
		} else if ((v = opt_value(tok, "partuuid"))) {
			partuuid = v;
		} else if ((v = opt_value(tok, "cache"))) {
			if (strcasecmp(v, "unsafe") == 0) {
				cache = "Unsafe";
			} else if (strcasecmp(v, "writeback") == 0) {
				cache = "Writeback";
			} else {
				bad(err, errlen, "--disk '%s': cache is unsafe or writeback", spec);
				goto out;
			}
		} else {
			bad(err, errlen, "--disk '%s': unknown option '%s'", spec, tok);
			goto out;
		}
	}
	ret = device_id("--disk", "disk", index, &id, defid, sizeof(defid), err, errlen);
	if (ret)
		goto out;
	body = json_pack("{s:s, s:s, s:b, s:b}", "drive_id", id, "path_on_host", path,
			 "is_root_device", root, "is_read_only", ro);
	if (body && cache)
		json_object_set_new(body, "cache_type", json_string(cache));
	if (body && partuuid)
		json_object_set_new(body, "partuuid", json_string(partuuid));
	ret = add_json(p, "PUT", body, err, errlen, "/drives/%s", id);
out:
	free(copy);
	return ret;
}

/* --net tap=NAME[,mac=MAC][,id=ID][,mtu=N] */
static int add_net(struct ctl_plan *p, const char *spec, unsigned index, char *err,
		   size_t errlen)
{
	char *copy, *rest, *tok, defid[16];
	const char *tap = NULL, *mac = NULL, *id = NULL, *v;
	uint64_t mtu = 0;
	bool has_mtu = false;
	json_t *body;
	int ret = -EINVAL;

	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	while ((tok = strsep(&rest, ","))) {
		if ((v = opt_value(tok, "tap"))) {
			tap = v;
		} else if ((v = opt_value(tok, "mac"))) {
			mac = v;
		} else if ((v = opt_value(tok, "id"))) {
			id = v;
		} else if ((v = opt_value(tok, "mtu"))) {
			ret = parse_count("--net mtu", v, 65535, &mtu, err, errlen);
			if (ret)
				goto out;
			has_mtu = true;
		} else {
			ret = bad(err, errlen, "--net '%s': unknown option '%s'", spec, tok);
			goto out;
		}
	}
	if (!tap || !*tap) {
		ret = bad(err, errlen, "--net '%s': tap=NAME is required", spec);
		goto out;
	}
	ret = device_id("--net", "eth", index, &id, defid, sizeof(defid), err, errlen);
	if (ret)
		goto out;
	body = json_pack("{s:s, s:s}", "iface_id", id, "host_dev_name", tap);
	if (body && mac)
		json_object_set_new(body, "guest_mac", json_string(mac));
	if (body && has_mtu)
		json_object_set_new(body, "mtu", json_integer((json_int_t)mtu));
	ret = add_json(p, "PUT", body, err, errlen, "/network-interfaces/%s", id);
out:
	free(copy);
	return ret;
}

/* --vsock cid=N,uds=PATH */
static int add_vsock(struct ctl_plan *p, const char *spec, char *err, size_t errlen)
{
	char *copy, *rest, *tok;
	const char *uds = NULL, *v;
	uint64_t cid = 0;
	bool has_cid = false;
	int ret = -EINVAL;

	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	while ((tok = strsep(&rest, ","))) {
		if ((v = opt_value(tok, "cid"))) {
			ret = parse_count("--vsock cid", v, UINT32_MAX, &cid, err, errlen);
			if (ret)
				goto out;
			has_cid = true;
		} else if ((v = opt_value(tok, "uds"))) {
			uds = v;
		} else {
			ret = bad(err, errlen, "--vsock '%s': unknown option '%s'", spec, tok);
			goto out;
		}
	}
	if (!has_cid || !uds || !*uds) {
		ret = bad(err, errlen, "--vsock '%s': cid=N and uds=PATH are required", spec);
		goto out;
	}
	ret = add_json(p, "PUT",
		      json_pack("{s:I, s:s}", "guest_cid", (json_int_t)cid, "uds_path", uds), err,
		      errlen, "/vsock");
out:
	free(copy);
	return ret;
}

/* --balloon MIB[,deflate-on-oom][,stats=SECONDS] */
static int add_balloon(struct ctl_plan *p, const char *spec, char *err, size_t errlen)
{
	char *copy, *rest, *tok;
	const char *amount, *v;
	uint64_t mib, stats = 0;
	bool deflate = false, has_stats = false;
	json_t *body;
	int ret;

	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	rest = copy;
	amount = strsep(&rest, ",");
	ret = parse_mib("--balloon", amount, &mib, err, errlen);
	if (ret)
		goto out;
	while ((tok = strsep(&rest, ","))) {
		if (strcmp(tok, "deflate-on-oom") == 0) {
			deflate = true;
		} else if ((v = opt_value(tok, "stats"))) {
			ret = parse_count("--balloon stats", v, INT32_MAX, &stats, err, errlen);
			if (ret)
				goto out;
			has_stats = true;
		} else {
			ret = bad(err, errlen, "--balloon '%s': unknown option '%s'", spec, tok);
			goto out;
		}
	}
	body = json_pack("{s:I, s:b}", "amount_mib", (json_int_t)mib, "deflate_on_oom", deflate);
	if (body && has_stats)
		json_object_set_new(body, "stats_polling_interval_s", json_integer((json_int_t)stats));
	ret = add_json(p, "PUT", body, err, errlen, "/balloon");
out:
	free(copy);
	return ret;
}

static const char configure_usage[] =
	"usage: osprey-ctl configure [options]\n"
	"\n"
	"Sets up the machine before 'start'. Each option is one API request, sent\n"
	"in this order: metrics, boot source, machine config, drives, network\n"
	"interfaces, vsock, balloon, entropy.\n"
	"\n"
	"  -k, --kernel PATH       guest kernel (PUT /boot-source)\n"
	"  -i, --initrd PATH       initial ramdisk (needs --kernel)\n"
	"  -c, --cmdline STRING    kernel parameters, boot_args (needs --kernel)\n"
	"  -n, --cpus N            vCPUs (PUT /machine-config; PATCH if only one of\n"
	"                          --cpus and --memory is given)\n"
	"  -m, --memory SIZE       guest RAM in MiB: 512, 512M, 2G\n"
	"  --track-dirty-pages     log dirty pages from boot, for Diff snapshots\n"
	"                          (machine-config track_dirty_pages)\n"
	"  --disk PATH[,ro][,root][,id=ID][,cache=unsafe|writeback][,partuuid=UUID]\n"
	"                          a virtio-blk drive (PUT /drives/ID; ID defaults to\n"
	"                          disk0, disk1, ...); repeatable, at most 16\n"
	"  --net tap=NAME[,mac=MAC][,id=ID][,mtu=N]\n"
	"                          a virtio-net interface on a tap device\n"
	"                          (PUT /network-interfaces/ID; ID defaults to eth0,\n"
	"                          eth1, ...); repeatable, at most 16\n"
	"  --vsock cid=N,uds=PATH  a virtio-vsock device (PUT /vsock)\n"
	"  --balloon SIZE[,deflate-on-oom][,stats=SECONDS]\n"
	"                          a virtio-balloon device (PUT /balloon)\n"
	"  --rng                   a virtio-rng device (PUT /entropy)\n"
	"  --metrics PATH          where FlushMetrics writes (PUT /metrics)\n"
	"  -h, --help              this help\n";

static int build_configure(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
			   char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "disk", required_argument, NULL, 'd' },
		{ "net", required_argument, NULL, 'N' },
		{ "vsock", required_argument, NULL, 'v' },
		{ "balloon", required_argument, NULL, 'b' },
		{ "rng", no_argument, NULL, 'r' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "track-dirty-pages", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool dirty = false;
	const char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *cpus_s = NULL, *mem_s = NULL;
	const char *vsock = NULL, *balloon = NULL, *metrics = NULL;
	const char *disks[CTL_MAX_DISKS], *nets[CTL_MAX_NETS];
	unsigned ndisks = 0, nnets = 0;
	uint64_t cpus = 0, mib = 0;
	bool rng = false;
	json_t *body;
	int c, ret;

	getopt_reset();
	while ((c = getopt_long(argc, argv, "+:k:i:c:n:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'c':
			cmdline = optarg;
			break;
		case 'n':
			cpus_s = optarg;
			break;
		case 'm':
			mem_s = optarg;
			break;
		case 'd':
			if (ndisks == CTL_MAX_DISKS)
				return bad(err, errlen, "at most %d --disk", CTL_MAX_DISKS);
			disks[ndisks++] = optarg;
			break;
		case 'N':
			if (nnets == CTL_MAX_NETS)
				return bad(err, errlen, "at most %d --net", CTL_MAX_NETS);
			nets[nnets++] = optarg;
			break;
		case 'v':
			vsock = optarg;
			break;
		case 'b':
			balloon = optarg;
			break;
		case 'r':
			rng = true;
			break;
		case 'M':
			metrics = optarg;
			break;
		case 'D':
			dirty = true;
			break;
		case 'h':
			p->usage = cmd->usage;
			return 0;
		default:
			return getopt_bad(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (!kernel && (initrd || cmdline))
		return bad(err, errlen, "--initrd and --cmdline need --kernel");
	if (cpus_s && parse_count("--cpus", cpus_s, UINT32_MAX, &cpus, err, errlen))
		return -EINVAL;
	if (mem_s && parse_mib("--memory", mem_s, &mib, err, errlen))
		return -EINVAL;

	if (metrics) {
		ret = add_json(p, "PUT", json_pack("{s:s}", "metrics_path", metrics), err, errlen,
			      "/metrics");
		if (ret)
			return ret;
	}
	if (kernel) {
		body = json_pack("{s:s}", "kernel_image_path", kernel);
		if (body && initrd)
			json_object_set_new(body, "initrd_path", json_string(initrd));
		if (body && cmdline)
			json_object_set_new(body, "boot_args", json_string(cmdline));
		ret = add_json(p, "PUT", body, err, errlen, "/boot-source");
		if (ret)
			return ret;
	}
	if (cpus_s || mem_s || dirty) {
		body = json_object();
		if (body && cpus_s)
			json_object_set_new(body, "vcpu_count", json_integer((json_int_t)cpus));
		if (body && mem_s)
			json_object_set_new(body, "mem_size_mib", json_integer((json_int_t)mib));
		if (body && dirty)
			json_object_set_new(body, "track_dirty_pages", json_true());
		/* PUT needs both; PATCH changes one and keeps the other */
		ret = add_json(p, cpus_s && mem_s ? "PUT" : "PATCH", body, err, errlen,
			      "/machine-config");
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < ndisks; i++) {
		ret = add_disk(p, disks[i], i, err, errlen);
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < nnets; i++) {
		ret = add_net(p, nets[i], i, err, errlen);
		if (ret)
			return ret;
	}
	if (vsock) {
		ret = add_vsock(p, vsock, err, errlen);
		if (ret)
			return ret;
	}
	if (balloon) {
		ret = add_balloon(p, balloon, err, errlen);
		if (ret)
			return ret;
	}
	if (rng) {
		ret = add_json(p, "PUT", json_object(), err, errlen, "/entropy");
		if (ret)
			return ret;
	}
	if (p->n == 0)
		return bad(err, errlen, "nothing to configure (see 'osprey-ctl configure --help')");
	return 0;
}

/* Commands without options: --help, or one request. */
static int build_simple(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
			char *err, size_t errlen)
{
	int ret = getopt_one(cmd, argc, argv, NULL, NULL, false, p, err, errlen);

	if (ret)
		return ret < 0 ? ret : 0;
	if (!cmd->body)
		return add_plain(p, cmd->method, cmd->show, err, errlen, "%s", cmd->path);
	return add_json(p, cmd->method, json_loads(cmd->body, 0, NULL), err, errlen, "%s",
			cmd->path);
}

/* Commands with one setting (cmd->setting): GET it, or PATCH it with the option. */
static int build_get_patch(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
			   char *err, size_t errlen)
{
	const struct ctl_setting *set = cmd->setting;
	char what[32];
	const char *val;
	uint64_t n;
	int ret;

	ret = getopt_one(cmd, argc, argv, set->opt, &val, false, p, err, errlen);
	if (ret)
		return ret < 0 ? ret : 0;
	if (!val)
		return add_plain(p, "GET", true, err, errlen, "%s", cmd->path);
	snprintf(what, sizeof(what), "--%s", set->opt);
	if (set->parse(what, val, &n, err, errlen))
		return -EINVAL;
	return add_json(p, "PATCH", json_pack("{s:I}", set->key, (json_int_t)n), err, errlen,
			"%s", cmd->path);
}

static const char balloon_usage[] =
	"usage: osprey-ctl balloon [--target SIZE]\n"
	"\n"
	"Without options prints the balloon device's configuration (GET /balloon).\n"
	"  -t, --target SIZE   inflate or deflate to SIZE (MiB: 64, 64M, 1G;\n"
	"                      PATCH /balloon), before or after start\n"
	"  -h, --help          this help\n"
	"The device itself is added before start: configure --balloon.\n";

static const struct ctl_setting balloon_target = { "target", "amount_mib", parse_mib };

static const char balloon_stats_usage[] =
	"usage: osprey-ctl balloon-stats [--interval SECONDS]\n"
	"\n"
	"Prints the balloon statistics the guest reported (GET /balloon/statistics);\n"
	"they need configure --balloon SIZE,stats=SECONDS.\n"
	"  -i, --interval SECONDS  change the polling interval instead\n"
	"                          (PATCH /balloon/statistics)\n"
	"  -h, --help              this help\n";

/* A polling interval in seconds. */
static int parse_interval(const char *what, const char *s, uint64_t *secs, char *err,
			  size_t errlen)
{
	return parse_count(what, s, INT32_MAX, secs, err, errlen);
}

static const struct ctl_setting balloon_interval = { "interval", "stats_polling_interval_s",
						     parse_interval };

static const char raw_usage[] =
	"usage: osprey-ctl raw METHOD PATH [BODY]\n"
	"\n"
	"Sends one request as given (BODY unchanged, normally JSON) and prints the\n"
	"response body, pretty-printed when it is JSON. Examples:\n"
	"  osprey-ctl raw GET /machine-config\n"
	"  osprey-ctl raw PATCH /drives/disk0 '{\"drive_id\":\"disk0\",\"path_on_host\":\"b.img\"}'\n";

static int build_raw(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
		     char *err, size_t errlen)
{
	const char *method, *path;
	int ret;

	ret = getopt_one(cmd, argc, argv, NULL, NULL, true, p, err, errlen);
	if (ret)
		return ret < 0 ? ret : 0;
	if (argc - optind < 2 || argc - optind > 3)
		return bad(err, errlen, "needs METHOD PATH [BODY]");
	method = argv[optind];
	path = argv[optind + 1];
	if (!*method || strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method))
		return bad(err, errlen, "method '%s': upper-case letters only", method);
	if (path[0] != '/' || strpbrk(path, " \t\r\n"))
		return bad(err, errlen, "path '%s': must start with '/', no spaces", path);
	ret = add_plain(p, method, true, err, errlen, "%s", path);
	if (ret == 0)
		p->req[p->n - 1].raw = argc - optind == 3 ? argv[optind + 2] : NULL;
	return ret;
}

static const char snapshot_usage[] =
	"usage: osprey-ctl snapshot create --state PATH --mem PATH [--type full|diff]\n"
	"                                  [--pause] [--resume]\n"
	"       osprey-ctl snapshot load --state PATH --mem PATH [--resume]\n"
	"                                [--track-dirty-pages]\n"
	"\n"
	"create: the paused machine to a state file and a memory file\n"
	"(PUT /snapshot/create); load: a fresh osprey from them instead of a boot\n"
	"(PUT /snapshot/load). Paths are the server's (relative: to its directory).\n"
	"  -s, --state PATH         the state file (snapshot_path)\n"
	"  -m, --mem PATH           the memory file (mem_file_path, mem_backend File)\n"
	"  -t, --type full|diff     create: every page, or the pages written since the\n"
	"                           last snapshot (needs dirty tracking; default full)\n"
	"  -p, --pause              create: pause the vCPUs first (PATCH /vm Paused)\n"
	"  -r, --resume             create: resume them after; load: run at once\n"
	"                           (resume_vm) instead of staying paused\n"
	"  -d, --track-dirty-pages  load: log dirty pages for the next Diff snapshot\n"
	"  -h, --help               this help\n"
	"See docs/snapshots.md.\n";

static int build_snapshot(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
			  char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "mem", required_argument, NULL, 'm' },
		{ "type", required_argument, NULL, 't' },
		{ "pause", no_argument, NULL, 'p' },
		{ "resume", no_argument, NULL, 'r' },
		{ "track-dirty-pages", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *mem = NULL, *type = NULL, *action;
	bool pause = false, resume = false, dirty = false, create;
	int c, ret;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc < 2)
			return bad(err, errlen, "needs create or load (see 'osprey-ctl snapshot --help')");
		p->usage = cmd->usage;
		return 0;
	}
	action = argv[1];
	if (strcmp(action, "create") == 0)
		create = true;
	else if (strcmp(action, "load") == 0)
		create = false;
	else
		return bad(err, errlen, "unknown action '%s' (create or load)", action);
	getopt_reset();
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "+:s:m:t:prdh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			state = optarg;
			break;
		case 'm':
			mem = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'p':
			pause = true;
			break;
		case 'r':
			resume = true;
			break;
		case 'd':
			dirty = true;
			break;
		case 'h':
			p->usage = cmd->usage;
			return 0;
		default:
			return getopt_bad(c, argv, err, errlen);
		}
	}
	if (optind < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (!state || !*state || !mem || !*mem)
		return bad(err, errlen, "%s needs --state PATH and --mem PATH", action);
	if (create) {
		const char *t = "Full";

		if (dirty)
			return bad(err, errlen, "create: --track-dirty-pages is for load "
						"(or configure --track-dirty-pages before start)");
		if (type && strcasecmp(type, "diff") == 0)
			t = "Diff";
		else if (type && strcasecmp(type, "full") != 0)
			return bad(err, errlen, "--type '%s': full or diff", type);
		if (pause) {
			ret = add_json(p, "PATCH", json_pack("{s:s}", "state", "Paused"), err, errlen,
				       "/vm");
			if (ret)
				return ret;
		}
		ret = add_json(p, "PUT",
			       json_pack("{s:s, s:s, s:s}", "snapshot_type", t, "snapshot_path", state,
					 "mem_file_path", mem),
			       err, errlen, "/snapshot/create");
		if (ret || !resume)
			return ret;
		return add_json(p, "PATCH", json_pack("{s:s}", "state", "Resumed"), err, errlen,
				"/vm");
	}
	if (type || pause)
		return bad(err, errlen, "load: --type and --pause are for create");
	return add_json(p, "PUT",
			json_pack("{s:s, s:{s:s, s:s}, s:b, s:b}", "snapshot_path", state,
				  "mem_backend", "backend_type", "File", "backend_path", mem,
				  "enable_diff_snapshots", dirty, "resume_vm", resume),
			err, errlen, "/snapshot/load");
}

static const char top_usage[] =
	"usage: osprey-ctl [--sock PATH] [--timeout SECONDS] [--verbose] COMMAND [options]\n"
	"\n"
	"Controls a running 'osprey --api-sock PATH' through its Firecracker-\n"
	"compatible API.\n"
	"\n"
	"commands:\n"
	"  configure      set up the machine before start: kernel, CPUs, memory,\n"
	"                 drives, network, vsock, balloon, rng, metrics\n"
	"  start          boot the configured machine (InstanceStart)\n"
	"  pause          pause the vCPUs (PATCH /vm Paused)\n"
	"  resume         resume the vCPUs (PATCH /vm Resumed)\n"
	"  stop           send Ctrl-Alt-Del to the guest (SendCtrlAltDel)\n"
	"  config         print the whole configuration (GET /vm/config)\n"
	"  metrics        write the metrics now (FlushMetrics)\n"
	"  snapshot       create a snapshot of the paused machine, or load one into\n"
	"                 a fresh osprey: snapshot create|load --state P --mem P\n"
	"  balloon        print the balloon device, or --target SIZE\n"
	"  balloon-stats  print the balloon statistics\n"
	"  info           print the instance information (GET /)\n"
	"  version        print the server's version (GET /version)\n"
	"  migrate        live-migrate to URI (osprey extension: PUT /migrate)\n"
	"  migrate-status print the migration's progress (GET /migrate)\n"
	"  migrate-cancel cancel it; the machine runs on (PUT /migrate/cancel)\n"
	"  containers     list osprey-oci's containers: containers [--root DIR]\n"
	"                 [--runtime P] [--format json] [-q]\n"
	"  list           the VM behind --sock and the containers, side by side\n"
	"  raw            send one request as given: raw METHOD PATH [BODY]\n"
	"  help           this help\n"
	"\n"
	"options:\n"
	"  -s, --sock PATH        the API socket (default: $OSPREY_API_SOCK)\n"
	"  -t, --timeout SECONDS  give up on a request after this long (default 30)\n"
	"  -v, --verbose          show each request and its status on stderr\n"
	"  -V, --version          osprey-ctl's own version\n"
	"  -h, --help             this help; 'osprey-ctl COMMAND --help' for a command\n"
	"\n"
	"Exit status: 0 on success; 1 when a request failed (the server's\n"
	"fault_message is printed) or the socket cannot be reached; 2 for bad usage.\n";

const char *ctl_usage(void)
{
	return top_usage;
}

static int build_help(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
		      char *err, size_t errlen)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	(void)err;
	(void)errlen;
	p->usage = top_usage;
	return 0;
}

static const char migrate_usage[] =
	"usage: osprey-ctl migrate URI [--bandwidth MIB_S] [--downtime MS] [--max-rounds N]\n"
	"\n"
	"Starts a live migration of the running machine (PUT /migrate) to a\n"
	"destination started with 'osprey run --incoming URI'; URI is unix:PATH or\n"
	"tcp:HOST:PORT. Then 'osprey-ctl migrate-status' (GET /migrate) shows its\n"
	"progress and 'osprey-ctl migrate-cancel' ends it (the machine runs on).\n"
	"  -b, --bandwidth MIB_S  at most this many MiB/s (default: unlimited)\n"
	"  -d, --downtime MS      stop-and-copy target (default 20)\n"
	"  -r, --max-rounds N     dirty page rounds at most (default 30)\n";

/* migrate URI [options]: PUT /migrate. */
static int build_migrate(const struct ctl_cmd *cmd, int argc, char **argv, struct ctl_plan *p,
			 char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "bandwidth", required_argument, NULL, 'b' },
		{ "downtime", required_argument, NULL, 'd' },
		{ "max-rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "bandwidth_limit_mib_s", "downtime_limit_ms",
					    "max_rounds" };
	uint64_t v[3] = { 0 };
	bool given[3] = { false };
	json_t *body;
	int c;

	getopt_reset();
	while ((c = getopt_long(argc, argv, ":b:d:r:h", opts, NULL)) != -1) {
		int i = c == 'b' ? 0 : c == 'd' ? 1 : c == 'r' ? 2 : -1;

		if (c == 'h') {
			p->usage = cmd->usage;
			return 0;
		}
		if (i < 0)
			return getopt_bad(c, argv, err, errlen);
		if (parse_u64(optarg, &v[i]) || v[i] > 1000000)
			return bad(err, errlen, "--%s '%s': expected a number up to 1000000",
				   opts[i].name, optarg);
		given[i] = true;
	}
	if (optind >= argc)
		return bad(err, errlen, "a destination URI is needed (unix:PATH or tcp:HOST:PORT)");
	if (optind + 1 < argc)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind + 1]);
	body = json_pack("{s:s}", "destination_uri", argv[optind]);
	for (int i = 0; body && i < 3; i++)
		if (given[i] && json_object_set_new(body, keys[i], json_integer((json_int_t)v[i]))) {
			json_decref(body);
			return bad(err, errlen, "out of memory");
		}
	return add_json(p, "PUT", body, err, errlen, "/migrate");
}

#define SIMPLE_USAGE(cmd, what) "usage: osprey-ctl " cmd "\n\n" what "\n"

static const struct ctl_cmd ctl_cmds[] = {
	{ "configure", configure_usage, build_configure, NULL, NULL, NULL, false, NULL },
	{ "start", SIMPLE_USAGE("start", "Boots the configured machine (PUT /actions InstanceStart)."),
	  build_simple, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", false, NULL },
	{ "pause", SIMPLE_USAGE("pause", "Pauses the vCPUs (PATCH /vm {\"state\":\"Paused\"})."),
	  build_simple, "PATCH", "/vm", "{\"state\":\"Paused\"}", false, NULL },
	{ "resume", SIMPLE_USAGE("resume", "Resumes the vCPUs (PATCH /vm {\"state\":\"Resumed\"})."),
	  build_simple, "PATCH", "/vm", "{\"state\":\"Resumed\"}", false, NULL },
	{ "stop",
	  SIMPLE_USAGE("stop", "Sends Ctrl-Alt-Del to the guest (PUT /actions SendCtrlAltDel);\n"
			       "a Linux guest reboots, and osprey exits."),
	  build_simple, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", false, NULL },
	{ "config", SIMPLE_USAGE("config", "Prints the whole machine configuration (GET /vm/config)."),
	  build_simple, "GET", "/vm/config", NULL, true, NULL },
	{ "metrics",
	  SIMPLE_USAGE("metrics", "Writes the metrics to the metrics file now (PUT /actions\n"
				  "FlushMetrics); needs configure --metrics PATH."),
	  build_simple, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", false, NULL },
	{ "balloon", balloon_usage, build_get_patch, NULL, "/balloon", NULL, false, &balloon_target },
	{ "balloon-stats", balloon_stats_usage, build_get_patch, NULL, "/balloon/statistics", NULL,
	  false, &balloon_interval },
	{ "info",
	  SIMPLE_USAGE("info", "Prints the instance information: id, state, version (GET /)."),
	  build_simple, "GET", "/", NULL, true, NULL },
	{ "version", SIMPLE_USAGE("version", "Prints the server's version (GET /version)."),
	  build_simple, "GET", "/version", NULL, true, NULL },
	{ "snapshot", snapshot_usage, build_snapshot, NULL, NULL, NULL, false, NULL },
	{ "migrate", migrate_usage, build_migrate, NULL, NULL, NULL, false, NULL },
	{ "migrate-status",
	  SIMPLE_USAGE("migrate-status", "Prints the live migration's state and figures (GET /migrate)."),
	  build_simple, "GET", "/migrate", NULL, true, NULL },
	{ "migrate-cancel",
	  SIMPLE_USAGE("migrate-cancel", "Cancels the live migration; the machine runs on (PUT\n"
					 "/migrate/cancel)."),
	  build_simple, "PUT", "/migrate/cancel", NULL, false, NULL },
	{ "raw", raw_usage, build_raw, NULL, NULL, NULL, false, NULL },
	{ "help", top_usage, build_help, NULL, NULL, NULL, false, NULL },
};

int ctl_plan_build(int argc, char **argv, struct ctl_plan *plan, char *err, size_t errlen)
{
	char msg[512];
	int ret;

	memset(plan, 0, sizeof(*plan));
	if (argc < 1 || !argv[0])
		return bad(err, errlen, "no command (see 'osprey-ctl --help')");
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		const struct ctl_cmd *cmd = &ctl_cmds[i];

		if (strcmp(argv[0], cmd->name) != 0)
			continue;
		msg[0] = '\0';
		ret = cmd->build(cmd, argc, argv, plan, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "%s: %s", cmd->name, msg);
			ctl_plan_free(plan);
		}
		return ret;
	}
	return bad(err, errlen, "unknown command '%s' (see 'osprey-ctl --help')", argv[0]);
}

void ctl_plan_free(struct ctl_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		json_decref(plan->req[i].body);
	plan->n = 0;
}

size_t ctl_fault_message(const char *body, size_t len, char *buf, size_t buflen)
{
	const char *text = body;
	size_t tlen = len, n = 0;
	json_t *j = NULL, *fm;

	if (buflen == 0)
		return 0;
	if (body && len) {
		j = json_loadb(body, len, 0, NULL);
		fm = json_is_object(j) ? json_object_get(j, "fault_message") : NULL;
		if (json_is_string(fm)) {
			text = json_string_value(fm);
			tlen = json_string_length(fm);
		}
	}
	for (size_t i = 0; text && i < tlen && n + 1 < buflen; i++) {
		unsigned char ch = (unsigned char)text[i];

		buf[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	json_decref(j);
	return n;
}
