// SPDX-License-Identifier: Apache-2.0
/*
 * vmm/seccomp: the per-thread allow-lists (every reason given, no call
 * twice in a kind, every name known to libseccomp, a child kind allows
 * nothing its creators forbid), docs/seccomp.md in step with the tables,
 * and a loaded filter that kills on a forbidden call (in a child process).
 *
 *   build/tests/unit/test_seccomp --markdown     prints the tables for the docs
 *   build/tests/unit/test_seccomp --update-doc   rewrites them in docs/seccomp.md
 */
#include <errno.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm/seccomp.h"

#define MAX_RULES 256
#define DOC "docs/seccomp.md"
#define DOC_BEGIN "<!-- seccomp tables: begin (test_seccomp --markdown) -->\n"
#define DOC_END "<!-- seccomp tables: end -->\n"

struct list {
	const struct vmm_seccomp_rule *r[MAX_RULES];
	size_t n;
};

static void collect(const struct vmm_seccomp_rule *r, void *opaque)
{
	struct list *l = opaque;

	assert_true(l->n < MAX_RULES);
	l->r[l->n++] = r;
}

static void list_of(enum vmm_seccomp_kind k, struct list *l)
{
	size_t n;

	l->n = 0;
	n = vmm_seccomp_rules(k, collect, l);
	assert_int_equal(n, l->n);
	assert_true(l->n > 0);
}

static void test_reasons_and_names(void **state)
{
	struct list l;

	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		list_of(k, &l);
		for (size_t i = 0; i < l.n; i++) {
			const char *name = l.r[i]->syscall;

			assert_non_null(l.r[i]->reason);
			if (strlen(l.r[i]->reason) < 8)
				fail_msg("%s: %s has no real reason", vmm_seccomp_kind_name(k), name);
			if (seccomp_syscall_resolve_name(name) < 0)
				fail_msg("%s: libseccomp does not know %s on this architecture",
					 vmm_seccomp_kind_name(k), name);
			/* twice only with different arguments (a sanitizer build's extra) */
			for (size_t j = i + 1; j < l.n; j++)
				if (strcmp(name, l.r[j]->syscall) == 0 &&
				    (l.r[i]->cond == l.r[j]->cond || !vmm_seccomp_sanitizer_build()))
					fail_msg("%s: %s listed twice", vmm_seccomp_kind_name(k), name);
		}
	}
}

/* Whether child's argument condition allows no more than parent's. */
static bool cond_within(enum vmm_seccomp_cond child, enum vmm_seccomp_cond parent)
{
	return parent == SC_ANY || child == parent ||
	       (child == SC_TGKILL_ABORT && parent == SC_TGKILL_KICK);
}

static void test_children_within_creators(void **state)
{
	struct list c, p;
	unsigned bad = 0;

	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		enum vmm_seccomp_kind parents[4];
		int np = vmm_seccomp_parent_kinds(k, parents);

		assert_true(np >= 0);
		list_of(k, &c);
		for (int pi = 0; pi < np; pi++) {
			list_of(parents[pi], &p);
			for (size_t i = 0; i < c.n; i++) {
				bool ok = false;

				for (size_t j = 0; j < p.n && !ok; j++)
					ok = strcmp(c.r[i]->syscall, p.r[j]->syscall) == 0 &&
					     cond_within(c.r[i]->cond, p.r[j]->cond);
				if (!ok) {
					print_error("%s needs %s (%s), which its creator %s forbids\n",
						    vmm_seccomp_kind_name(k), c.r[i]->syscall,
						    vmm_seccomp_cond_text(c.r[i]->cond),
						    vmm_seccomp_kind_name(parents[pi]));
					bad++;
				}
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void test_filters_build(void **state)
{
	const char *bad;

	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		int ret = vmm_seccomp_check(k, 0, &bad);

		if (ret)
			fail_msg("%s: %s at %s", vmm_seccomp_kind_name(k), strerror(-ret),
				 bad ? bad : "?");
	}
	assert_int_equal(vmm_seccomp_check(VMM_SECCOMP_VCPU, VMM_SECCOMP_F_KVM, &bad), 0);
	assert_int_equal(vmm_seccomp_check(VMM_SECCOMP_NKINDS, 0, &bad), -EINVAL);
}

static void test_kind_names(void **state)
{
	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++)
		assert_int_equal(vmm_seccomp_kind_from_name(vmm_seccomp_kind_name(k)), (int)k);
	assert_int_equal(vmm_seccomp_kind_from_name("device-io"), VMM_SECCOMP_DEVICE_IO);
	assert_int_equal(vmm_seccomp_kind_from_name("nope"), -1);
	assert_int_equal(vmm_seccomp_kind_from_name(""), -1);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void test_docs_in_step(void **state)
{
	char *doc = read_all(DOC), *gen = NULL, *b, *e;
	size_t len = 0;
	FILE *f;

	(void)state;
	if (!doc)
		skip(); /* run from elsewhere than the checkout's root */
	f = open_memstream(&gen, &len);
	assert_non_null(f);
	vmm_seccomp_write_markdown(f);
	fclose(f);
	b = strstr(doc, DOC_BEGIN);
	e = b ? strstr(b, DOC_END) : NULL;
	if (!b || !e) {
		free(gen);
		free(doc);
		fail_msg(DOC " lacks the table markers");
	}
	b += strlen(DOC_BEGIN);
	*e = '\0';
	if (strcmp(b, gen) != 0) {
		free(gen);
		free(doc);
		fail_msg(DOC " differs from the tables in src/vmm/seccomp.c: "
			 "build/tests/unit/test_seccomp --update-doc rewrites them");
	}
	free(gen);
	free(doc);
}

/* --update-doc: the tables of docs/seccomp.md rewritten from the code. */
static int update_doc(void)
{
	char *doc = read_all(DOC), *b, *e;
	FILE *f;

	if (!doc || !(b = strstr(doc, DOC_BEGIN)) || !(e = strstr(b, DOC_END))) {
		fprintf(stderr, DOC ": missing, or without the table markers\n");
		free(doc);
		return 1;
	}
	f = fopen(DOC, "w");
	if (!f) {
		perror(DOC);
		free(doc);
		return 1;
	}
	fwrite(doc, 1, (size_t)(b - doc) + strlen(DOC_BEGIN), f);
	vmm_seccomp_write_markdown(f);
	fputs(e, f);
	free(doc);
	return fclose(f) ? 1 : 0;
}

/* In a child: the filter of kind is installed, then times() (no kind allows it). */
static int child_status(enum vmm_seccomp_kind kind, bool forbidden, bool on)
{
	char err[256];
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (vmm_seccomp_configure(on, err, sizeof(err)))
			_exit(10);
		vmm_seccomp_enter(kind, 0);
		if (forbidden)
			(void)syscall(SYS_times, NULL);
		else
			(void)syscall(SYS_getpid);
		syscall(SYS_exit_group, 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_forbidden_call_kills(void **state)
{
	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		int st = child_status(k, true, true);

		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("%s: forbidden call: status 0x%x, expected death by SIGSYS",
				 vmm_seccomp_kind_name(k), st);
		st = child_status(k, false, true);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: allowed call: status 0x%x", vmm_seccomp_kind_name(k), st);
		st = child_status(k, true, false);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("%s: filters off: status 0x%x", vmm_seccomp_kind_name(k), st);
	}
}

/*
 * Sanitizer builds: a report from a filtered thread is printed whole (the
 * sanitizer's calls are allowed), not cut short by SIGSYS.
 */
static void test_sanitizer_report_under_filter(void **state)
{
	(void)state;
	if (!vmm_seccomp_sanitizer_build())
		skip();
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		char err[256], buf[8192];
		int fds[2], st;
		size_t used = 0;
		ssize_t n;
		pid_t pid;

		assert_int_equal(pipe(fds), 0);
		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *volatile p;

			dup2(fds[1], 2);
			if (vmm_seccomp_configure(true, err, sizeof(err)))
				_exit(10);
			vmm_seccomp_enter(k, 0);
			p = malloc(16);
			free(p);
			free(p); /* double free: AddressSanitizer reports it */
			_exit(0);
		}
		close(fds[1]);
		while (used < sizeof(buf) - 1 &&
		       (n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) > 0)
			used += (size_t)n;
		buf[used] = '\0';
		close(fds[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (WIFSIGNALED(st) || !strstr(buf, "attempting double-free") ||
		    !strstr(buf, "in test_sanitizer_report_under_filter") ||
		    !strstr(buf, "SUMMARY: AddressSanitizer"))
			fail_msg("%s: status 0x%x, report:\n%s", vmm_seccomp_kind_name(k), st, buf);
	}
}

/* abort() (a failed assertion) still ends the process by SIGABRT under every filter. */
static void test_abort_under_filter(void **state)
{
	(void)state;
	for (unsigned k = 0; k < VMM_SECCOMP_NKINDS; k++) {
		char err[256];
		int st;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (vmm_seccomp_configure(true, err, sizeof(err)))
				_exit(10);
			vmm_seccomp_enter(k, 0);
			abort();
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
			fail_msg("%s: abort() gave status 0x%x, not SIGABRT", vmm_seccomp_kind_name(k),
				 st);
	}
}

static void test_bad_selftest_kind(void **state)
{
	char err[256] = "";

	(void)state;
	setenv(VMM_SECCOMP_SELFTEST_ENV, "bogus", 1);
	assert_int_equal(vmm_seccomp_configure(false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a thread kind"));
	unsetenv(VMM_SECCOMP_SELFTEST_ENV);
	assert_int_equal(vmm_seccomp_configure(false, err, sizeof(err)), 0);
	assert_false(vmm_seccomp_enabled());
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasons_and_names),
		cmocka_unit_test(test_children_within_creators),
		cmocka_unit_test(test_filters_build),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_docs_in_step),
		cmocka_unit_test(test_forbidden_call_kills),
		cmocka_unit_test(test_sanitizer_report_under_filter),
		cmocka_unit_test(test_abort_under_filter),
		cmocka_unit_test(test_bad_selftest_kind),
	};

	if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
		vmm_seccomp_write_markdown(stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--update-doc") == 0)
		return update_doc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
