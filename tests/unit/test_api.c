// SPDX-License-Identifier: Apache-2.0
/* api/: api_handle() in a dry context and with a recording backend; config files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api.h"
#include "api/backend.h"
#include "api/internal.h"
#include "api/setup.h"
#include "snapshot/snapshot.h"
#include "virtio/balloon.h"

static struct api_ctx *ctx;
static struct api_response resp;
static json_t *reply; /* resp.body parsed */

static int setup(void **state)
{
	(void)state;
	ctx = api_ctx_create(NULL, NULL);
	assert_non_null(ctx);
	memset(&resp, 0, sizeof(resp));
	reply = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_ctx_destroy(ctx);
	free(resp.body);
	resp.body = NULL;
	json_decref(reply);
	reply = NULL;
	return 0;
}

/* Sends one request; returns the status and parses the body into `reply`. */
static unsigned rq(const char *method, const char *path, const char *body)
{
	free(resp.body);
	json_decref(reply);
	reply = NULL;
	api_handle(ctx, method, path, body, body ? strlen(body) : 0, &resp);
	if (resp.body) {
		reply = json_loads(resp.body, 0, NULL);
		assert_non_null(reply); /* every body is valid JSON */
	}
	if (resp.status == 204)
		assert_null(resp.body);
	return resp.status;
}

/* A request with an explicit length (bodies that are not C strings). */
static unsigned rq_len(const char *method, const char *path, const char *body, size_t len)
{
	free(resp.body);
	resp.body = NULL;
	api_handle(ctx, method, path, body, len, &resp);
	return resp.status;
}

/* Expects 400 with a fault_message containing needle. */
static void expect_fault(const char *method, const char *path, const char *body,
			 const char *needle)
{
	const char *msg;

	assert_int_equal(rq(method, path, body), 400);
	msg = json_string_value(json_object_get(reply, "fault_message"));
	assert_non_null(msg);
	if (!strstr(msg, needle))
		fail_msg("%s %s: fault '%s' does not mention '%s'", method, path, msg, needle);
}

static void expect_ok(const char *method, const char *path, const char *body)
{
	unsigned st = rq(method, path, body);

	if (st != 204)
		fail_msg("%s %s %s: %u %s", method, path, body ? body : "", st,
			 resp.body ? resp.body : "");
}

/* GET path and the member `key` of the reply (borrowed until the next request). */
static json_t *get(const char *path, const char *key)
{
	assert_int_equal(rq("GET", path, NULL), 200);
	return key ? json_object_get(reply, key) : reply;
}

static void boot_source(void)
{
	expect_ok("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"boot_args\": \"quiet\"}");
}

static void start(void)
{
	expect_ok("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}");
}

/* ---- instance, version ---- */

static void test_instance_and_version(void **state)
{
	(void)state;
	assert_string_equal(json_string_value(get("/", "state")), "Not started");
	assert_string_equal(json_string_value(get("/", "app_name")), "osprey");
	assert_string_equal(json_string_value(get("/", "id")), "anonymous-instance");
	assert_non_null(json_string_value(get("/version", "firecracker_version")));
	assert_int_equal(api_ctx_set_instance_id(ctx, "vm7"), 0);
	assert_string_equal(json_string_value(get("/", "id")), "vm7");
}

/* osprey's "accel" extension: PUT/PATCH /machine-config, GET / and GET /machine-config. */
static void test_accel_extension(void **state)
{
	json_t *mc;

	(void)state;
	assert_string_equal(json_string_value(get("/", "accel")), "auto");
	mc = get("/machine-config", NULL);
	assert_null(json_object_get(mc, "accel")); /* the default is not shown */
	expect_ok("PATCH", "/machine-config", "{\"accel\": \"soft\"}");
	assert_string_equal(ctx->cfg.accel, "soft");
	assert_string_equal(json_string_value(get("/", "accel")), "soft");
	assert_string_equal(json_string_value(get("/machine-config", "accel")), "soft");
	expect_ok("PATCH", "/machine-config", "{\"cpu_template\": \"soft\"}");
	assert_string_equal(ctx->cfg.cpu_template, "soft");
	expect_fault("PATCH", "/machine-config", "{\"accel\": \"tcg\"}", "unknown accelerator");
	expect_fault("PATCH", "/machine-config", "{\"accel\": 1}", "Expected string");
	assert_string_equal(ctx->cfg.accel, "soft");
	/* PUT replaces the whole configuration: back to auto. */
	expect_ok("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}");
	assert_string_equal(ctx->cfg.accel, "auto");
	expect_ok("PUT", "/machine-config",
		  "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"accel\": \"kvm\"}");
	assert_string_equal(ctx->cfg.accel, "kvm");
}

/* ---- bad input classes ---- */

static void test_unknown_path_and_method(void **state)
{
	(void)state;
	expect_fault("GET", "/nope", NULL, "Invalid request method and/or path");
	expect_fault("DELETE", "/machine-config", NULL, "Invalid request method and/or path");
	expect_fault("POST", "/actions", "{}", "Invalid request method and/or path");
	expect_fault("PUT", "/version", "{}", "Invalid request method and/or path");
	expect_fault("PUT", "/drives/", "{}", "Invalid request method and/or path");
	expect_fault("PUT", "/drives/a/b", "{}", "Invalid request method and/or path");
	expect_fault("GET", "", NULL, "Invalid request method and/or path");
	assert_int_equal(rq_len(NULL, NULL, NULL, 0), 400);
	/* The server still answers. */
	assert_int_equal(rq("GET", "/", NULL), 200);
}

static void test_malformed_json(void **state)
{
	(void)state;
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 2,", "malformed JSON");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 2", "malformed JSON");
	expect_fault("PUT", "/machine-config", "not json", "malformed JSON");
	expect_fault("PUT", "/machine-config", "{} trailing", "malformed JSON");
	expect_fault("PUT", "/machine-config", "[1, 2]", "must be a JSON object");
	expect_fault("PUT", "/machine-config", "\"x\"", "malformed JSON");
	expect_fault("PUT", "/machine-config",
		     "{\"vcpu_count\": 1, \"vcpu_count\": 2, \"mem_size_mib\": 128}", "duplicate");
	/* Truncated: the length covers part of the text. */
	assert_int_equal(rq_len("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}", 10), 400);
	assert_non_null(strstr(resp.body, "malformed JSON"));
	/* A body with a NUL inside. */
	assert_int_equal(rq_len("PUT", "/boot-source", "{\"a\0\": 1}", 9), 400);
	expect_fault("PUT", "/boot-source", NULL, "body is required");
	expect_fault("PUT", "/boot-source", "", "body is required");
	assert_int_equal(json_object_size(get("/vm/config", "boot-source")), 0);
}

static void test_oversize_body(void **state)
{
	char *big = malloc(API_MAX_BODY + 2);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', API_MAX_BODY + 1);
	big[0] = '{';
	big[API_MAX_BODY] = '}';
	big[API_MAX_BODY + 1] = '\0';
	expect_fault("PUT", "/mmds", big, "larger than the limit");
	/* Exactly at the limit is fine. */
	big[API_MAX_BODY - 1] = '}';
	big[API_MAX_BODY] = '\0';
	expect_ok("PUT", "/mmds", big);
	free(big);
}

static void test_wrong_types_and_unknown_fields(void **state)
{
	(void)state;
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": \"2\", \"mem_size_mib\": 128}",
		     "invalid body");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 2.5, \"mem_size_mib\": 128}",
		     "invalid body");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"smt\": 1}",
		     "invalid body");
	expect_fault("PUT", "/machine-config",
		     "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"colour\": \"red\"}", "colour");
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": 7}", "invalid body");
	expect_fault("PUT", "/boot-source", "{\"initrd_path\": \"/i\"}", "kernel_image_path");
	expect_fault("PUT", "/actions", "{\"action_type\": [\"InstanceStart\"]}", "invalid body");
	expect_fault("PUT", "/actions", "{\"action_type\": \"Reboot\"}", "unknown action_type");
	expect_fault("PATCH", "/vm", "{\"state\": \"Paused\", \"now\": true}", "now");
	/* Optional fields may be null (Firecracker's clients send them). */
	expect_ok("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"initrd_path\": null}");
	assert_true(json_is_null(json_object_get(get("/vm/config", "boot-source"), "initrd_path")));
}

/* ---- boot source, machine config ---- */

static void test_boot_source(void **state)
{
	json_t *bs;

	(void)state;
	expect_ok("PUT", "/boot-source",
		  "{\"kernel_image_path\": \"/vmlinux\", \"initrd_path\": \"/initrd\", \"boot_args\": \"console=ttyS0\"}");
	bs = get("/vm/config", "boot-source");
	assert_string_equal(json_string_value(json_object_get(bs, "kernel_image_path")), "/vmlinux");
	assert_string_equal(json_string_value(json_object_get(bs, "initrd_path")), "/initrd");
	assert_string_equal(json_string_value(json_object_get(bs, "boot_args")), "console=ttyS0");
	/* PUT replaces: no initrd now. */
	expect_ok("PUT", "/boot-source", "{\"kernel_image_path\": \"/other\"}");
	bs = get("/vm/config", "boot-source");
	assert_true(json_is_null(json_object_get(bs, "initrd_path")));
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"\"}", "empty");
}

static void test_boot_args_too_long(void **state)
{
	char body[VM_CMDLINE_MAX + 64];
	char args[VM_CMDLINE_MAX + 1];

	(void)state;
	memset(args, 'a', VM_CMDLINE_MAX);
	args[VM_CMDLINE_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"kernel_image_path\": \"/k\", \"boot_args\": \"%s\"}", args);
	expect_fault("PUT", "/boot-source", body, "limit");
}

static void test_machine_config(void **state)
{
	json_t *mc;

	(void)state;
	mc = get("/machine-config", NULL);
	assert_int_equal(json_integer_value(json_object_get(mc, "vcpu_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(mc, "mem_size_mib")), 128);
	assert_false(json_boolean_value(json_object_get(mc, "smt")));
	expect_ok("PUT", "/machine-config",
		  "{\"vcpu_count\": 4, \"mem_size_mib\": 512, \"smt\": true, \"track_dirty_pages\": true, \"cpu_template\": \"None\", \"huge_pages\": \"None\"}");
	mc = get("/machine-config", NULL);
	assert_int_equal(json_integer_value(json_object_get(mc, "vcpu_count")), 4);
	assert_int_equal(json_integer_value(json_object_get(mc, "mem_size_mib")), 512);
	assert_true(json_boolean_value(json_object_get(mc, "smt")));
	assert_true(json_boolean_value(json_object_get(mc, "track_dirty_pages")));
	assert_string_equal(ctx->cfg.cpu_template, "auto");
	/* PATCH changes only what it names. */
	expect_ok("PATCH", "/machine-config", "{\"vcpu_count\": 2}");
	mc = get("/machine-config", NULL);
	assert_int_equal(json_integer_value(json_object_get(mc, "vcpu_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(mc, "mem_size_mib")), 512);
	assert_true(json_boolean_value(json_object_get(mc, "smt")));
	/* PUT resets the optional ones. */
	expect_ok("PUT", "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 64}");
	mc = get("/machine-config", NULL);
	assert_false(json_boolean_value(json_object_get(mc, "smt")));
	assert_int_equal(ctx->cfg.mem_size, 64ULL << 20);
	assert_int_equal(ctx->cfg.ncpus, 3);
	/* osprey's own template names. */
	expect_ok("PATCH", "/machine-config", "{\"cpu_template\": \"host\"}");
	assert_string_equal(ctx->cfg.cpu_template, "host");
	assert_string_equal(json_string_value(get("/machine-config", "cpu_template")), "host");
}

static void test_machine_config_bad(void **state)
{
	(void)state;
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 128}",
		     "vcpu_count must be from 1");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 255, \"mem_size_mib\": 128}",
		     "vcpu_count must be from 1");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": -1, \"mem_size_mib\": 128}",
		     "vcpu_count");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 0}",
		     "mem_size_mib must be at least 1");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 4}",
		     "minimum");
	expect_fault("PUT", "/machine-config",
		     "{\"vcpu_count\": 1, \"mem_size_mib\": 9007199254740991}", "machine-config");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 3, \"mem_size_mib\": 128, \"smt\": true}",
		     "even");
	expect_fault("PUT", "/machine-config",
		     "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"cpu_template\": \"T2\"}",
		     "no CPU template 'T2'");
	expect_fault("PUT", "/machine-config",
		     "{\"vcpu_count\": 1, \"mem_size_mib\": 128, \"huge_pages\": \"2M\"}", "huge_pages");
	expect_fault("PUT", "/machine-config", "{\"mem_size_mib\": 128}", "vcpu_count");
	expect_fault("PATCH", "/machine-config", "{\"vcpu_count\": 0}", "vcpu_count");
	/* Nothing changed. */
	assert_int_equal(json_integer_value(get("/machine-config", "vcpu_count")), 1);
	assert_int_equal(json_integer_value(get("/machine-config", "mem_size_mib")), 128);
}

/* ---- devices ---- */

static void test_drives(void **state)
{
	json_t *drives, *d;

	(void)state;
	expect_ok("PUT", "/drives/data",
		  "{\"drive_id\": \"data\", \"path_on_host\": \"/d.img\", \"is_root_device\": false, \"is_read_only\": true, \"cache_type\": \"Writeback\"}");
	expect_ok("PUT", "/drives/rootfs",
		  "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r.img\", \"is_root_device\": true, "
		  "\"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100, \"one_time_burst\": 5}, \"ops\": {\"size\": 10, \"refill_time\": 1000}}}");
	/* Replacing keeps the slot. */
	expect_ok("PUT", "/drives/data",
		  "{\"drive_id\": \"data\", \"path_on_host\": \"/d2.img\", \"is_root_device\": false}");
	assert_int_equal(ctx->cfg.ndisks, 2);
	assert_string_equal(ctx->cfg.disks[0].path, "/d2.img");
	assert_false(ctx->cfg.disks[0].read_only);
	assert_int_equal(ctx->cfg.disks[1].rate_limit.bandwidth.size, 1000);
	assert_int_equal(ctx->cfg.disks[1].rate_limit.bandwidth.one_time_burst, 5);
	assert_int_equal(ctx->cfg.disks[1].rate_limit.bandwidth.refill_time_ms, 100);
	assert_int_equal(ctx->cfg.disks[1].rate_limit.ops.size, 10);
	assert_int_equal(ctx->cfg.disks[1].rate_limit.ops.refill_time_ms, 1000);
	drives = get("/vm/config", "drives");
	assert_int_equal(json_array_size(drives), 2);
	d = json_array_get(drives, 1);
	assert_string_equal(json_string_value(json_object_get(d, "drive_id")), "rootfs");
	assert_true(json_boolean_value(json_object_get(d, "is_root_device")));
	assert_string_equal(json_string_value(json_object_get(d, "cache_type")), "Unsafe");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(d, "rate_limiter"), "bandwidth"),
				 "size")),
			 1000);
}

static void test_drives_bad(void **state)
{
	char path[32], body[160];

	(void)state;
	expect_fault("PUT", "/drives/a", "{\"drive_id\": \"b\", \"path_on_host\": \"/x\", \"is_root_device\": false}",
		     "does not match");
	expect_fault("PUT", "/drives/a", "{\"drive_id\": \"a\", \"is_root_device\": false}",
		     "path_on_host is required");
	expect_fault("PUT", "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\"}",
		     "is_root_device");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"cache_type\": \"None\"}",
		     "cache_type");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"io_engine\": \"Async\"}",
		     "io_engine");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"socket\": \"/s\", \"is_root_device\": false}", "vhost-user");
	expect_fault("PUT", "/drives/a-b",
		     "{\"drive_id\": \"a-b\", \"path_on_host\": \"/x\", \"is_root_device\": false}", "ids are");
	expect_fault("PUT", "/drives/abcdefghijklmnopqrstu",
		     "{\"drive_id\": \"abcdefghijklmnopqrstu\", \"path_on_host\": \"/x\", \"is_root_device\": false}",
		     "longer than 20");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": true, \"partuuid\": \"1 init=/bin/sh\"}",
		     "partuuid");
	/* Rate limiter: missing size, negative, unknown field, wrong type. */
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"rate_limiter\": {\"bandwidth\": {\"refill_time\": 1}}}",
		     "size");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"rate_limiter\": {\"ops\": {\"size\": -1, \"refill_time\": 1}}}",
		     "negative");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"rate_limiter\": {\"iops\": {}}}",
		     "iops");
	expect_fault("PUT", "/drives/a",
		     "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false, \"rate_limiter\": 5}",
		     "must be an object");
	/* One root device. */
	expect_ok("PUT", "/drives/r1", "{\"drive_id\": \"r1\", \"path_on_host\": \"/x\", \"is_root_device\": true}");
	expect_fault("PUT", "/drives/r2", "{\"drive_id\": \"r2\", \"path_on_host\": \"/x\", \"is_root_device\": true}",
		     "root block device already exists");
	/* At most VM_MAX_DISKS. */
	for (int i = 1; i < VM_MAX_DISKS; i++) {
		snprintf(path, sizeof(path), "/drives/d%d", i);
		snprintf(body, sizeof(body),
			 "{\"drive_id\": \"d%d\", \"path_on_host\": \"/x\", \"is_root_device\": false}", i);
		expect_ok("PUT", path, body);
	}
	expect_fault("PUT", "/drives/dmore",
		     "{\"drive_id\": \"dmore\", \"path_on_host\": \"/x\", \"is_root_device\": false}",
		     "at most");
	/* PATCH is post-boot only. */
	expect_fault("PATCH", "/drives/r1", "{\"drive_id\": \"r1\", \"path_on_host\": \"/y\"}",
		     "only after InstanceStart");
}

static void test_network_interfaces(void **state)
{
	json_t *n;

	(void)state;
	expect_ok("PUT", "/network-interfaces/eth0",
		  "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:ac:10:00:02\", "
		  "\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 100, \"refill_time\": 10}}}");
	assert_int_equal(ctx->cfg.nnets, 1);
	assert_true(ctx->cfg.nets[0].has_mac);
	assert_int_equal(ctx->cfg.nets[0].mac[5], 2);
	assert_int_equal(ctx->cfg.nets[0].rx_rate_limit.bandwidth.size, 100);
	n = json_array_get(get("/vm/config", "network-interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(n, "host_dev_name")), "tap0");
	assert_string_equal(json_string_value(json_object_get(n, "guest_mac")), "06:00:ac:10:00:02");
	assert_non_null(json_object_get(n, "rx_rate_limiter"));
	assert_null(json_object_get(n, "tx_rate_limiter"));
	expect_fault("PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap0\"}", "already used");
	expect_fault("PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"guest_mac\": \"06:00:ac:10:00:02\"}",
		     "already used");
	expect_fault("PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"guest_mac\": \"01:00:00:00:00:01\"}",
		     "unicast");
	expect_fault("PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"a-very-long-tap-name\"}", "15");
	expect_fault("PUT", "/network-interfaces/eth1",
		     "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 1500}", "mtu");
	expect_fault("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap1\"}",
		     "does not match");
	expect_fault("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}",
		     "only after InstanceStart");
}

static void test_vsock_entropy_serial(void **state)
{
	(void)state;
	assert_true(json_is_null(get("/vm/config", "vsock")));
	expect_ok("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\", \"vsock_id\": \"vsock0\"}");
	assert_true(ctx->cfg.vsock.enabled);
	assert_int_equal(ctx->cfg.vsock.cid, 3);
	assert_int_equal(json_integer_value(json_object_get(get("/vm/config", "vsock"), "guest_cid")), 3);
	expect_fault("PUT", "/vsock", "{\"guest_cid\": 2, \"uds_path\": \"/tmp/v.sock\"}", "guest_cid");
	expect_fault("PUT", "/vsock", "{\"guest_cid\": 3}", "uds_path");

	assert_true(json_is_null(get("/vm/config", "entropy")));
	expect_ok("PUT", "/entropy", "{}");
	assert_true(ctx->cfg.rng);
	expect_ok("PUT", "/entropy", "{\"rate_limiter\": {\"bandwidth\": {\"size\": 64, \"refill_time\": 10}}}");
	assert_int_equal(ctx->cfg.rng_rate_limit.bandwidth.size, 64);
	assert_non_null(json_object_get(get("/vm/config", "entropy"), "rate_limiter"));
	expect_fault("PUT", "/entropy", "{\"rate\": 1}", "rate");

	expect_ok("PUT", "/serial", "{\"serial_out_path\": \"/tmp/serial.log\"}");
	assert_int_equal(ctx->cfg.console, CONSOLE_FILE);
	assert_string_equal(ctx->cfg.console_path, "/tmp/serial.log");
	expect_fault("PUT", "/serial", "{\"rate_limiter\": {\"size\": 1, \"refill_time\": 1}}",
		     "not supported");
	expect_ok("PUT", "/serial", "{}");
	assert_int_equal(ctx->cfg.console, CONSOLE_STDIO);
}

static void test_logger_and_metrics(void **state)
{
	(void)state;
	expect_ok("PUT", "/logger", "{\"level\": \"Info\", \"show_level\": true, \"show_log_origin\": false}");
	expect_ok("PUT", "/logger", "{\"level\": \"trace\"}");
	expect_fault("PUT", "/logger", "{\"level\": \"Loud\"}", "level");
	expect_fault("PUT", "/logger", "{\"path\": \"/x\"}", "path");
	assert_string_equal(json_string_value(json_object_get(get("/vm/config", "logger"), "level")),
			    "trace");
	expect_fault("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", "not configured");
	expect_fault("PUT", "/metrics", "{}", "metrics_path");
	expect_fault("PUT", "/metrics", "{\"metrics_path\": \"/m\", \"properties\": {\"a\": 1}}",
		     "must be a string");
	expect_ok("PUT", "/metrics", "{\"metrics_path\": \"/m\", \"properties\": {\"a\": \"b\"}}");
	expect_fault("PUT", "/metrics", "{\"metrics_path\": \"/m2\"}", "already");
	expect_ok("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}");
	assert_string_equal(
		json_string_value(json_object_get(get("/vm/config", "metrics"), "metrics_path")), "/m");
}

static void test_balloon(void **state)
{
	json_t *b, *st;

	(void)state;
	expect_fault("GET", "/balloon", NULL, "no balloon");
	expect_fault("PATCH", "/balloon", "{\"amount_mib\": 1}", "no balloon");
	expect_fault("GET", "/balloon/statistics", NULL, "no balloon");
	expect_fault("PUT", "/balloon", "{\"amount_mib\": 16}", "deflate_on_oom");
	expect_fault("PUT", "/balloon", "{\"amount_mib\": -1, \"deflate_on_oom\": false}", "amount_mib");
	expect_fault("PUT", "/balloon",
		     "{\"amount_mib\": 1, \"deflate_on_oom\": false, \"free_page_hinting\": true}",
		     "not supported");
	expect_ok("PUT", "/balloon", "{\"amount_mib\": 0, \"deflate_on_oom\": false}");
	expect_fault("GET", "/balloon/statistics", NULL, "not enabled");
	expect_ok("PUT", "/balloon",
		  "{\"amount_mib\": 16, \"deflate_on_oom\": true, \"stats_polling_interval_s\": 1}");
	b = get("/balloon", NULL);
	assert_int_equal(json_integer_value(json_object_get(b, "amount_mib")), 16);
	assert_true(json_boolean_value(json_object_get(b, "deflate_on_oom")));
	assert_int_equal(json_integer_value(json_object_get(b, "stats_polling_interval_s")), 1);
	expect_ok("PATCH", "/balloon", "{\"amount_mib\": 32}");
	assert_int_equal(ctx->cfg.balloon.target, 32ULL << 20);
	expect_fault("PATCH", "/balloon", "{\"amount_mib\": 4096}", "more than");
	expect_fault("GET", "/balloon/statistics", NULL, "once the microVM runs");
	expect_ok("PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 5}");
	assert_int_equal(ctx->cfg.balloon.stats_interval, 5);
	expect_fault("PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 99999}", "from 0");
	boot_source();
	start();
	st = get("/balloon/statistics", NULL);
	assert_int_equal(json_integer_value(json_object_get(st, "target_mib")), 32);
	assert_int_equal(json_integer_value(json_object_get(st, "target_pages")), 32 * 256);
	assert_non_null(json_object_get(st, "actual_pages"));
	expect_ok("PATCH", "/balloon", "{\"amount_mib\": 8}");
	expect_ok("PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 5}");
	expect_fault("PATCH", "/balloon/statistics", "{\"stats_polling_interval_s\": 0}", "on or off");
	expect_fault("PUT", "/balloon", "{\"amount_mib\": 0, \"deflate_on_oom\": false}",
		     "after starting");
}

static void test_mmds(void **state)
{
	json_t *m;

	(void)state;
	assert_int_equal(json_object_size(get("/mmds", NULL)), 0);
	expect_ok("PUT", "/mmds", "{\"latest\": {\"meta-data\": {\"ami-id\": \"ami-1\", \"x\": 1}}, \"gone\": 2}");
	expect_ok("PATCH", "/mmds", "{\"latest\": {\"meta-data\": {\"x\": null, \"y\": [1]}}, \"gone\": null}");
	m = get("/mmds", NULL);
	assert_null(json_object_get(m, "gone"));
	m = json_object_get(json_object_get(m, "latest"), "meta-data");
	assert_string_equal(json_string_value(json_object_get(m, "ami-id")), "ami-1");
	assert_null(json_object_get(m, "x"));
	assert_true(json_is_array(json_object_get(m, "y")));
	expect_fault("PUT", "/mmds", "[]", "must be a JSON object");
	expect_fault("PUT", "/mmds/config", "{\"network_interfaces\": [\"eth0\"]}", "not supported");
}

static void test_unsupported_paths(void **state)
{
	(void)state;
	expect_fault("PUT", "/cpu-config", "{}", "not supported");
	expect_fault("PUT", "/pmem/p0", "{}", "not supported");
	expect_fault("GET", "/hotplug/memory", NULL, "not supported");
	expect_fault("PATCH", "/balloon/hinting/start", "{}", "not supported");
}

/* ---- snapshots ---- */

static void test_snapshot_requests(void **state)
{
	(void)state;
	/* Bad bodies. */
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\"}", "mem_file_path");
	expect_fault("PUT", "/snapshot/create",
		     "{\"snapshot_type\": \"Half\", \"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "Full or Diff");
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/s\"}",
		     "different files");
	expect_fault("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\"}", "memory file is missing");
	expect_fault("PUT", "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"/m\"}}",
		     "not both");
	expect_fault("PUT", "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"Uffd\", \"backend_path\": \"/u\"}}",
		     "only File");
	expect_fault("PUT", "/snapshot/load",
		     "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"vsock_override\": {\"uds_path\": \"/v\"}}",
		     "not supported yet");
	/* create before any start; load after a boot-specific resource. */
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "not been started");
	boot_source();
	expect_fault("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "boot-specific resources (boot-source)");
	start();
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "must be paused");
	expect_ok("PATCH", "/vm", "{\"state\": \"Paused\"}");
	expect_ok("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}");
	expect_ok("PUT", "/snapshot/create",
		  "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}");
	expect_fault("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "only a fresh microVM");
}

static void test_snapshot_load_dry(void **state)
{
	(void)state;
	expect_ok("PUT", "/logger", "{\"level\": \"Info\"}");
	expect_ok("PUT", "/snapshot/load",
		  "{\"snapshot_path\": \"/s\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"/m\"}, \"enable_diff_snapshots\": true}");
	assert_string_equal(json_string_value(get("/", "state")), "Paused");
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "already been started");
	expect_fault("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "only a fresh microVM");
	expect_ok("PATCH", "/vm", "{\"state\": \"Resumed\"}");
	assert_string_equal(json_string_value(get("/", "state")), "Running");
	assert_true(json_is_true(json_object_get(get("/machine-config", NULL), "track_dirty_pages")));
}

/* ---- lifecycle ---- */

static void test_instance_start(void **state)
{
	(void)state;
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "no boot source");
	expect_fault("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", "not running");
	boot_source();
	start();
	assert_string_equal(json_string_value(get("/", "state")), "Running");
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "already been started");
	expect_ok("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
	/* Pre-boot-only requests after the start. */
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}", "after starting");
	expect_fault("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128}",
		     "after starting");
	expect_fault("PATCH", "/machine-config", "{\"vcpu_count\": 2}", "after starting");
	expect_fault("PUT", "/drives/a", "{\"drive_id\": \"a\", \"path_on_host\": \"/x\", \"is_root_device\": false}",
		     "after starting");
	expect_fault("PUT", "/network-interfaces/e", "{\"iface_id\": \"e\", \"host_dev_name\": \"t\"}",
		     "after starting");
	expect_fault("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/v\"}", "after starting");
	expect_fault("PUT", "/entropy", "{}", "after starting");
	expect_fault("PUT", "/serial", "{}", "after starting");
	/* GETs still work. */
	assert_int_equal(json_integer_value(get("/vm/config", "machine-config") ?
						    json_object_get(json_object_get(reply, "machine-config"),
								    "vcpu_count") :
						    NULL),
			 1);
}

static void test_instance_start_invalid_config(void **state)
{
	(void)state;
	boot_source();
	expect_ok("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}");
	expect_ok("PUT", "/balloon", "{\"amount_mib\": 100, \"deflate_on_oom\": false}");
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "InstanceStart:");
	assert_string_equal(json_string_value(get("/", "state")), "Not started");
}

static void test_pause_resume(void **state)
{
	(void)state;
	expect_fault("PATCH", "/vm", "{\"state\": \"Paused\"}", "not been started");
	boot_source();
	start();
	expect_fault("PATCH", "/vm", "{\"state\": \"Resumed\"}", "not paused");
	expect_ok("PATCH", "/vm", "{\"state\": \"Paused\"}");
	assert_string_equal(json_string_value(get("/", "state")), "Paused");
	expect_fault("PATCH", "/vm", "{\"state\": \"Paused\"}", "already paused");
	expect_ok("PATCH", "/vm", "{\"state\": \"Resumed\"}");
	assert_string_equal(json_string_value(get("/", "state")), "Running");
	expect_fault("PATCH", "/vm", "{\"state\": \"Stopped\"}", "Paused or Resumed");
	expect_fault("PATCH", "/vm", "{}", "state");
}

static void test_patch_after_start(void **state)
{
	(void)state;
	boot_source();
	expect_ok("PUT", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true}");
	expect_ok("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}");
	start();
	expect_ok("PATCH", "/drives/root",
		  "{\"drive_id\": \"root\", \"path_on_host\": \"/r2\", \"rate_limiter\": {\"ops\": {\"size\": 5, \"refill_time\": 100}}}");
	assert_string_equal(ctx->cfg.disks[0].path, "/r2");
	assert_int_equal(ctx->cfg.disks[0].rate_limit.ops.size, 5);
	/* The running machine keeps its own copy. */
	assert_string_equal(ctx->boot->disks[0].path, "/r");
	expect_fault("PATCH", "/drives/other", "{\"drive_id\": \"other\"}", "no drive");
	expect_fault("PATCH", "/drives/root", "{\"drive_id\": \"root\", \"is_read_only\": true}",
		     "is_read_only");
	expect_ok("PATCH", "/network-interfaces/eth0",
		  "{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {\"bandwidth\": {\"size\": 7, \"refill_time\": 1}}}");
	assert_int_equal(ctx->cfg.nets[0].tx_rate_limit.bandwidth.size, 7);
	expect_fault("PATCH", "/network-interfaces/eth9", "{\"iface_id\": \"eth9\"}", "no network interface");
}

static void test_boot_config_cmdline(void **state)
{
	(void)state;
	/* No boot_args: osprey's defaults stay, root= is added. */
	expect_ok("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}");
	expect_ok("PUT", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/d\", \"is_root_device\": false}");
	expect_ok("PUT", "/drives/root",
		  "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true, \"is_read_only\": true}");
	start();
	assert_false(ctx->boot->no_default_cmdline);
	assert_string_equal(ctx->boot->cmdline, "root=/dev/vda ro");
	/* The root drive is the first (vda). */
	assert_string_equal(ctx->boot->disks[0].id, "root");
	assert_string_equal(ctx->boot->disks[1].id, "data");
}

/* Regression (fuzz_api): faults quoting bytes that are not UTF-8 had no body. */
static void test_fault_message_non_utf8(void **state)
{
	char path[256];

	(void)state;
	expect_fault("GET", "/\xff", NULL, "?");
	expect_fault("PUT", "/drives/\xc3", "{}", "");
	/* a 2-byte character cut by the message's length limit */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	memcpy(path + 199, "\xc3\xa9", 2);
	path[201] = 0;
	expect_fault("GET", path, NULL, "aaaa");
	/* valid UTF-8 stays as it is */
	expect_fault("GET", "/caf\xc3\xa9", NULL, "caf\xc3\xa9");
}

static void test_boot_config_boot_args(void **state)
{
	(void)state;
	expect_ok("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0 quiet\"}");
	expect_ok("PUT", "/drives/root",
		  "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true, \"partuuid\": \"abcd-01\"}");
	start();
	assert_true(ctx->boot->no_default_cmdline);
	assert_true(ctx->boot->keep_template_cmdline);
	assert_string_equal(ctx->boot->cmdline, "osprey.pv=1 console=ttyS0 quiet root=PARTUUID=abcd-01 rw");
	assert_int_equal(ctx->boot->mem_size, 128ULL << 20);
}

static void test_vm_config_reflects_puts(void **state)
{
	json_t *c, *mc;

	(void)state;
	expect_ok("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 300}");
	boot_source();
	expect_ok("PUT", "/drives/rootfs", "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": true}");
	expect_ok("PUT", "/balloon", "{\"amount_mib\": 10, \"deflate_on_oom\": false}");
	expect_ok("PUT", "/vsock", "{\"guest_cid\": 9, \"uds_path\": \"/v\"}");
	c = get("/vm/config", NULL);
	mc = json_object_get(c, "machine-config");
	assert_int_equal(json_integer_value(json_object_get(mc, "vcpu_count")), 2);
	assert_int_equal(json_integer_value(json_object_get(mc, "mem_size_mib")), 300);
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "boot-source"), "boot_args")),
			    "quiet");
	assert_int_equal(json_array_size(json_object_get(c, "drives")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "balloon"), "amount_mib")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "vsock"), "guest_cid")), 9);
	assert_true(json_is_null(json_object_get(c, "logger")));
}

/* ---- a recording backend ---- */

static struct {
	int starts, pauses, resumes, cads, disk_updates, net_updates, targets, loggers, metrics;
	int fail_start, snap_creates, snap_loads;
	bool snap_resume;
	uint64_t target;
	char disk_path[64];
	unsigned ncpus;
} rec;

static int r_start(void *o, const struct vm_config *cfg, char *err, size_t n)
{
	(void)o;
	rec.starts++;
	rec.ncpus = cfg->ncpus;
	if (rec.fail_start) {
		snprintf(err, n, "no KVM here");
		return -ENODEV;
	}
	return 0;
}
static int r_pause(void *o, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	rec.pauses++;
	return 0;
}
static int r_resume(void *o, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	rec.resumes++;
	return 0;
}
static int r_cad(void *o, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	rec.cads++;
	return 0;
}
static int r_target(void *o, uint64_t b, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	rec.targets++;
	rec.target = b;
	return 0;
}
static int r_stats(void *o, struct virtio_balloon_stats *st, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	st->actual_pages = 256;
	st->stats_valid = 1u << VIRTIO_BALLOON_S_MEMFREE;
	st->stats[VIRTIO_BALLOON_S_MEMFREE] = 12345;
	return 0;
}
static int r_disk(void *o, const char *id, const char *path, const struct rate_limiter_config *rl,
		  char *e, size_t n)
{
	(void)o, (void)id, (void)rl;
	rec.disk_updates++;
	snprintf(rec.disk_path, sizeof(rec.disk_path), "%s", path ? path : "");
	snprintf(e, n, "not implemented yet");
	return -ENOSYS;
}
static int r_net(void *o, const char *id, const struct rate_limiter_config *rx,
		 const struct rate_limiter_config *tx, char *e, size_t n)
{
	(void)o, (void)id, (void)rx, (void)tx, (void)e, (void)n;
	rec.net_updates++;
	return 0;
}
static int r_logger(void *o, const struct api_logger_config *lc, char *e, size_t n)
{
	(void)o, (void)lc, (void)e, (void)n;
	rec.loggers++;
	return 0;
}
static int r_metrics(void *o, const char *p, char *e, size_t n)
{
	(void)o, (void)p;
	rec.metrics++;
	snprintf(e, n, "metrics are not implemented yet");
	return -ENOSYS;
}
static int r_flush(void *o, char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	return 0;
}

static struct vm_config snap_cfg;
static int r_snap_create(void *o, const struct snapshot_create_params *p, char *e, size_t n)
{
	(void)o, (void)p;
	rec.snap_creates++;
	snprintf(e, n, "the disk is full");
	return -ENOSPC;
}
static int r_snap_load(void *o, const struct snapshot_load_params *p, const struct vm_config **cfg,
		       char *e, size_t n)
{
	(void)o, (void)e, (void)n;
	rec.snap_loads++;
	rec.snap_resume = p->resume;
	vm_config_init(&snap_cfg);
	snap_cfg.kernel_path = "/vmlinux";
	snap_cfg.cmdline = "quiet";
	snap_cfg.ncpus = 2;
	snap_cfg.mem_size = 256ULL << 20;
	snap_cfg.cpu_template = "soft";
	snap_cfg.accel = "soft";
	snap_cfg.ndisks = 1;
	snap_cfg.disks[0].path = "/rootfs.img";
	snap_cfg.disks[0].id = NULL; /* a command-line machine: no id */
	snap_cfg.nnets = 1;
	snap_cfg.nets[0].tap = "tap7";
	snap_cfg.nets[0].id = "eth0";
	snap_cfg.nets[0].has_mac = true;
	snap_cfg.nets[0].mac[0] = 6;
	*cfg = &snap_cfg;
	return 0;
}

static const struct api_backend recorder = {
	.snapshot_create = r_snap_create,
	.snapshot_load = r_snap_load,
	.start = r_start,
	.pause = r_pause,
	.resume = r_resume,
	.ctrl_alt_del = r_cad,
	.balloon_set_target = r_target,
	.balloon_get_stats = r_stats,
	.update_disk = r_disk,
	.update_net = r_net,
	.configure_logger = r_logger,
	.init_metrics = r_metrics,
	.flush_metrics = r_flush,
};

static int setup_backend(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	ctx = api_ctx_create(&recorder, NULL);
	assert_non_null(ctx);
	memset(&resp, 0, sizeof(resp));
	reply = NULL;
	return 0;
}

static void test_backend_calls(void **state)
{
	json_t *st;

	(void)state;
	expect_ok("PUT", "/logger", "{\"level\": \"Debug\"}");
	assert_int_equal(rec.loggers, 1);
	expect_fault("PUT", "/metrics", "{\"metrics_path\": \"/m\"}", "not implemented");
	assert_null(ctx->metrics);
	boot_source();
	expect_ok("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 128}");
	expect_ok("PUT", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true}");
	expect_ok("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}");
	expect_ok("PUT", "/balloon", "{\"amount_mib\": 0, \"deflate_on_oom\": false, \"stats_polling_interval_s\": 1}");
	/* Balloon target pre-boot: config only. */
	expect_ok("PATCH", "/balloon", "{\"amount_mib\": 4}");
	assert_int_equal(rec.targets, 0);
	rec.fail_start = 1;
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", "no KVM here");
	assert_string_equal(json_string_value(get("/", "state")), "Not started");
	rec.fail_start = 0;
	start();
	assert_int_equal(rec.starts, 2);
	assert_int_equal(rec.ncpus, 2);
	expect_ok("PATCH", "/vm", "{\"state\": \"Paused\"}");
	expect_ok("PATCH", "/vm", "{\"state\": \"Resumed\"}");
	assert_int_equal(rec.pauses, 1);
	assert_int_equal(rec.resumes, 1);
	expect_ok("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}");
	assert_int_equal(rec.cads, 1);
	expect_ok("PATCH", "/balloon", "{\"amount_mib\": 8}");
	assert_int_equal(rec.target, 8ULL << 20);
	st = get("/balloon/statistics", NULL);
	assert_int_equal(json_integer_value(json_object_get(st, "actual_mib")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "free_memory")), 12345);
	assert_null(json_object_get(st, "swap_in"));
	/* A failing update answers 400 and changes nothing. */
	expect_fault("PATCH", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/new\"}",
		     "not implemented yet");
	assert_string_equal(rec.disk_path, "/new");
	assert_string_equal(ctx->cfg.disks[0].path, "/r");
	expect_ok("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}");
	assert_int_equal(rec.net_updates, 1);
}

/* A load through a backend: the loaded machine's configuration is what GET shows. */
static void test_backend_snapshot(void **state)
{
	json_t *vc, *d;

	(void)state;
	expect_ok("PUT", "/snapshot/load",
		  "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\", \"resume_vm\": true}");
	assert_int_equal(rec.snap_loads, 1);
	assert_true(rec.snap_resume);
	assert_string_equal(json_string_value(get("/", "state")), "Running");
	vc = get("/vm/config", NULL);
	assert_non_null(vc);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(vc, "machine-config"),
							     "vcpu_count")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(vc, "machine-config"),
							     "mem_size_mib")),
			 256);
	assert_string_equal(json_string_value(json_object_get(json_object_get(vc, "boot-source"),
							      "kernel_image_path")),
			    "/vmlinux");
	d = json_array_get(json_object_get(vc, "drives"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "drive_id")), "drive0");
	assert_string_equal(json_string_value(json_object_get(d, "path_on_host")), "/rootfs.img");
	d = json_array_get(json_object_get(vc, "network-interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "guest_mac")), "06:00:00:00:00:00");
	/* The loaded strings are the context's own copies. */
	assert_ptr_not_equal(ctx->cfg.kernel_path, snap_cfg.kernel_path);
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "must be paused");
	expect_ok("PATCH", "/vm", "{\"state\": \"Paused\"}");
	expect_fault("PUT", "/snapshot/create", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
		     "the disk is full");
	assert_int_equal(rec.snap_creates, 1);
}

/* ---- config file ---- */

static void test_config_file(void **state)
{
	const char *cfg = "{\"boot-source\": {\"kernel_image_path\": \"/k\", \"boot_args\": \"quiet\"},"
			  " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 256},"
			  " \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": true}],"
			  " \"network-interfaces\": [], \"balloon\": null, \"logger\": {\"level\": \"Info\"}}";
	char err[256] = "";

	(void)state;
	assert_int_equal(api_config_apply(ctx, cfg, strlen(cfg), err, sizeof(err)), 0);
	assert_string_equal(json_string_value(get("/", "state")), "Running");
	assert_int_equal(ctx->boot->ncpus, 2);
	assert_string_equal(ctx->boot->disks[0].id, "rootfs");
}

static void config_file_fails(const char *cfg, const char *needle)
{
	struct api_ctx *c = api_ctx_create(NULL, NULL);
	char err[256] = "";

	assert_non_null(c);
	assert_int_equal(api_config_apply(c, cfg, strlen(cfg), err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("config error '%s' does not mention '%s'", err, needle);
	api_ctx_destroy(c);
}

static void test_config_file_bad(void **state)
{
	(void)state;
	config_file_fails("{\"boot-source\": {\"kernel_image_path\": \"/k\"", "malformed JSON");
	config_file_fails("[]", "JSON object");
	config_file_fails("{\"bootsource\": {}}", "unknown section \"bootsource\"");
	config_file_fails("{\"machine-config\": {\"vcpu_count\": 0, \"mem_size_mib\": 128}}",
			  "machine-config: ");
	config_file_fails("{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": {}}",
			  "must be an array");
	config_file_fails("{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": [{\"path_on_host\": \"/x\"}]}",
			  "drives[0]");
	config_file_fails("{\"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 128}}",
			  "no boot source");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_instance_and_version),
		T(test_accel_extension),
		T(test_fault_message_non_utf8),
		T(test_unknown_path_and_method),
		T(test_malformed_json),
		T(test_oversize_body),
		T(test_wrong_types_and_unknown_fields),
		T(test_boot_source),
		T(test_boot_args_too_long),
		T(test_machine_config),
		T(test_machine_config_bad),
		T(test_drives),
		T(test_drives_bad),
		T(test_network_interfaces),
		T(test_vsock_entropy_serial),
		T(test_logger_and_metrics),
		T(test_balloon),
		T(test_mmds),
		T(test_unsupported_paths),
		T(test_snapshot_requests),
		T(test_snapshot_load_dry),
		T(test_instance_start),
		T(test_instance_start_invalid_config),
		T(test_pause_resume),
		T(test_patch_after_start),
		T(test_boot_config_cmdline),
		T(test_boot_config_boot_args),
		T(test_vm_config_reflects_puts),
		cmocka_unit_test_setup_teardown(test_backend_calls, setup_backend, teardown),
		cmocka_unit_test_setup_teardown(test_backend_snapshot, setup_backend, teardown),
		T(test_config_file),
		T(test_config_file_bad),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
