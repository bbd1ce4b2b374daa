// SPDX-License-Identifier: Apache-2.0
/* sandbox: seccomp filters from a plain description, built with libseccomp. */
#include <ctype.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

static const char *const action_names[] = {
	[SB_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
	[SB_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
	[SB_SCMP_KILL] = "SCMP_ACT_KILL",
	[SB_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[SB_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[SB_SCMP_TRAP] = "SCMP_ACT_TRAP",
	[SB_SCMP_TRACE] = "SCMP_ACT_TRACE",
	[SB_SCMP_LOG] = "SCMP_ACT_LOG",
	[SB_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

int sb_scmp_action_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(name, action_names[i]))
			return (int)i;
	return -1;
}

static const char *const op_names[] = {
	[SB_SCMP_OP_NE] = "SCMP_CMP_NE", [SB_SCMP_OP_LT] = "SCMP_CMP_LT",
	[SB_SCMP_OP_LE] = "SCMP_CMP_LE", [SB_SCMP_OP_EQ] = "SCMP_CMP_EQ",
	[SB_SCMP_OP_GE] = "SCMP_CMP_GE", [SB_SCMP_OP_GT] = "SCMP_CMP_GT",
	[SB_SCMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

int sb_scmp_op_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp(name, op_names[i]))
			return (int)i;
	return -1;
}

static uint32_t to_scmp_action(int action, int errno_ret)
{
	switch (action) {
	case SB_SCMP_ALLOW:
		return SCMP_ACT_ALLOW;
	case SB_SCMP_ERRNO:
		return SCMP_ACT_ERRNO((uint16_t)(errno_ret < 0 ? EPERM : errno_ret));
	case SB_SCMP_KILL:
	case SB_SCMP_KILL_THREAD:
		return SCMP_ACT_KILL_THREAD;
	case SB_SCMP_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case SB_SCMP_TRAP:
		return SCMP_ACT_TRAP;
	case SB_SCMP_TRACE:
		return SCMP_ACT_TRACE((uint16_t)(errno_ret < 0 ? EPERM : errno_ret));
	case SB_SCMP_LOG:
		return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static const enum scmp_compare to_scmp_op[] = {
	[SB_SCMP_OP_NE] = SCMP_CMP_NE, [SB_SCMP_OP_LT] = SCMP_CMP_LT,
	[SB_SCMP_OP_LE] = SCMP_CMP_LE, [SB_SCMP_OP_EQ] = SCMP_CMP_EQ,
	[SB_SCMP_OP_GE] = SCMP_CMP_GE, [SB_SCMP_OP_GT] = SCMP_CMP_GT,
	[SB_SCMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* "SCMP_ARCH_X86_64" -> libseccomp's token */
static uint32_t arch_token(const char *name)
{
	char low[32];
	size_t i;

	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	name += 10;
	for (i = 0; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	return seccomp_arch_resolve_name(low);
}

static int build(const struct sb_seccomp *s, bool set_nnp, scmp_filter_ctx *out, struct sb_err *e)
{
	uint32_t def = to_scmp_action(s->default_action, s->default_errno);
	scmp_filter_ctx ctx;
	int added = 0, r;

	if (s->default_action == SB_SCMP_NOTIFY)
		return sb_fail(e, ENOTSUP, "seccomp: SCMP_ACT_NOTIFY is not supported (no listener)");
	ctx = seccomp_init(def);
	if (!ctx)
		return sb_fail(e, ENOMEM, "seccomp_init failed");
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, set_nnp ? 1 : 0) < 0)
		goto fail_attr;
	for (size_t i = 0; i < s->n_flags; i++) {
		enum scmp_filter_attr a;

		if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_LOG"))
			a = SCMP_FLTATR_CTL_LOG;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			a = SCMP_FLTATR_CTL_SSB;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC"))
			a = SCMP_FLTATR_CTL_TSYNC;
		else {
			seccomp_release(ctx);
			return sb_fail(e, EINVAL, "seccomp: unknown flag %s", s->flags[i]);
		}
		if (seccomp_attr_set(ctx, a, 1) < 0)
			goto fail_attr;
	}
	for (size_t i = 0; i < s->n_archs; i++) {
		uint32_t tok = arch_token(s->archs[i]);

		if (!tok) {
			seccomp_release(ctx);
			return sb_fail(e, EINVAL, "seccomp: unknown architecture %s", s->archs[i]);
		}
		r = seccomp_arch_add(ctx, tok);
		if (r < 0 && r != -EEXIST) {
			seccomp_release(ctx);
			return sb_fail(e, -r, "seccomp: add architecture %s: %s", s->archs[i], strerror(-r));
		}
	}
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct sb_scmp_rule *rule = &s->rules[i];
		struct scmp_arg_cmp cmp[SB_SCMP_MAX_ARGS];
		uint32_t act;

		if (rule->action == SB_SCMP_NOTIFY) {
			seccomp_release(ctx);
			return sb_fail(e, ENOTSUP, "seccomp: SCMP_ACT_NOTIFY is not supported (no listener)");
		}
		act = to_scmp_action(rule->action, rule->errno_ret);
		if (act == def)
			continue; /* libseccomp refuses rules that repeat the default */
		for (size_t a = 0; a < rule->n_args; a++) {
			cmp[a].arg = rule->args[a].index;
			cmp[a].op = to_scmp_op[rule->args[a].op];
			cmp[a].datum_a = rule->args[a].value;
			cmp[a].datum_b = rule->args[a].value_two;
		}
		/*
		 * Two conditions on one argument cannot both hold (libseccomp
		 * refuses them as one rule): such a list means any of them,
		 * one rule per condition, as runc and crun read it.
		 */
		bool each = false;
		for (size_t a = 0; a < rule->n_args; a++)
			for (size_t b = a + 1; b < rule->n_args; b++)
				if (rule->args[a].index == rule->args[b].index)
					each = true;
		for (size_t n = 0; n < rule->n_names; n++) {
			int nr = seccomp_syscall_resolve_name(rule->names[n]);

			if (nr == __NR_SCMP_ERROR)
				continue; /* unknown on this kernel/arch: skipped, as runc does */
			if (each) {
				r = 0;
				for (size_t a = 0; a < rule->n_args && r >= 0; a++) {
					r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[a]);
					if (r == -EEXIST)
						r = 0;
				}
			} else {
				r = seccomp_rule_add_array(ctx, act, nr, (unsigned int)rule->n_args,
							   cmp);
			}
			if (r < 0) {
				seccomp_release(ctx);
				return sb_fail(e, -r, "seccomp: rule for %s: %s", rule->names[n], strerror(-r));
			}
			added++;
		}
	}
	*out = ctx;
	return added;
fail_attr:
	seccomp_release(ctx);
	return sb_fail(e, EINVAL, "seccomp: cannot set a filter attribute");
}

int sb_seccomp_check(const struct sb_seccomp *s, struct sb_err *e)
{
	scmp_filter_ctx ctx;
	int r = build(s, true, &ctx, e);

	if (r >= 0)
		seccomp_release(ctx);
	return r;
}

int sb_seccomp_load(const struct sb_seccomp *s, bool set_nnp, struct sb_err *e)
{
	scmp_filter_ctx ctx;
	int r = build(s, set_nnp, &ctx, e);

	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return sb_fail(e, -r, "seccomp: load the filter: %s", strerror(-r));
	return 0;
}

int sb_seccomp_compile(const struct sb_seccomp *s, struct sb_seccomp_prog *out, struct sb_err *e)
{
	scmp_filter_ctx ctx;
	off_t size;
	int r, fd;

	memset(out, 0, sizeof(*out));
	r = build(s, false, &ctx, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_flags; i++) {
		if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_LOG"))
			out->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC"))
			out->flags |= SECCOMP_FILTER_FLAG_TSYNC;
	}
	fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		seccomp_release(ctx);
		return sb_fail(e, -r, "seccomp: memfd: %s", strerror(-r));
	}
	r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0) {
		close(fd);
		return sb_fail(e, -r, "seccomp: export the filter: %s", strerror(-r));
	}
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		close(fd);
		return sb_fail(e, E2BIG, "seccomp: the filter has %lld bytes (at most %d instructions)",
			       (long long)size, BPF_MAXINSNS);
	}
	out->filter = malloc((size_t)size);
	if (!out->filter || pread(fd, out->filter, (size_t)size, 0) != size) {
		close(fd);
		sb_seccomp_prog_free(out);
		return sb_fail(e, EIO, "seccomp: read back the filter");
	}
	close(fd);
	out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	return 0;
}

int sb_seccomp_load_prog(const struct sb_seccomp_prog *p, struct sb_err *e)
{
	struct sock_fprog prog = { .len = p->len, .filter = p->filter };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog) < 0)
		return sb_fail(e, errno, "seccomp: load the filter: %s", strerror(errno));
	return 0;
}

void sb_seccomp_prog_free(struct sb_seccomp_prog *p)
{
	free(p->filter);
	p->filter = NULL;
	p->len = 0;
}
