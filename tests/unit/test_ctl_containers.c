// SPDX-License-Identifier: Apache-2.0
/* osprey-ctl containers: the rows printed from a runtime's `list --format
 * json` answer, and malformed answers rejected. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ctl/containers.c"
#include "../../src/ctl/http.c"

static char out_buf[4096];

/* ctl_containers_print into out_buf; returns its result */
static int print(const char *text, int json, int header, char *err, size_t errlen)
{
	FILE *f = fmemopen(out_buf, sizeof(out_buf), "w");
	int n;

	assert_non_null(f);
	n = ctl_containers_print(f, text, strlen(text), json, header, err, errlen);
	fclose(f);
	return n;
}

static const char two[] =
	"[{\"id\": \"web\", \"pid\": 42, \"status\": \"running\", \"bundle\": \"/b/web\","
	" \"rootfs\": \"/b/web/rootfs\", \"created\": \"2026-01-01T00:00:00Z\", \"future\": 1},"
	" {\"id\": \"old\", \"pid\": 0, \"status\": \"stopped\", \"bundle\": \"/b/old\"}]";

static void test_rows(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(print(two, 0, 1, err, sizeof(err)), 2);
	assert_non_null(strstr(out_buf, "KIND"));
	assert_non_null(strstr(out_buf, "container  web"));
	assert_non_null(strstr(out_buf, " 42 "));
	assert_non_null(strstr(out_buf, "running"));
	assert_non_null(strstr(out_buf, "/b/web"));
	assert_non_null(strstr(out_buf, "2026-01-01T00:00:00Z"));
	/* a stopped container has no pid */
	assert_non_null(strstr(out_buf, "container  old                      -"));
	/* ids only */
	assert_int_equal(print(two, 0, -1, err, sizeof(err)), 2);
	assert_string_equal(out_buf, "web\nold\n");
	/* none: the header alone */
	assert_int_equal(print("[]", 0, 1, err, sizeof(err)), 0);
	assert_non_null(strstr(out_buf, "KIND"));
}

static void test_json(void **state)
{
	char err[256];
	json_t *j;

	(void)state;
	assert_int_equal(print(two, 1, 1, err, sizeof(err)), 2);
	j = json_loads(out_buf, 0, NULL);
	assert_true(json_is_array(j));
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "kind")), "container");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "id")), "old");
	json_decref(j);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "{", "{}", "[1]", "[{\"pid\": 3}]", "[{\"id\": 7}]", "null", "[{\"id\": \"a\"}, \"x\"]",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(print(bad[i], 0, 1, err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 0);
	}
	/* odd but valid field types are shown as unknown, not trusted */
	assert_int_equal(print("[{\"id\": \"a\", \"pid\": \"x\", \"status\": 3}]", 0, 0, err, sizeof(err)), 1);
	assert_non_null(strstr(out_buf, "container  a"));
	assert_non_null(strstr(out_buf, " ? "));
}

static void test_is_cmd(void **state)
{
	(void)state;
	assert_true(ctl_containers_is_cmd("containers"));
	assert_true(ctl_containers_is_cmd("list"));
	assert_false(ctl_containers_is_cmd("info"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_is_cmd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
