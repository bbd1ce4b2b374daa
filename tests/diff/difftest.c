// SPDX-License-Identifier: Apache-2.0
/*
 * difftest: differential tests of osprey's software CPU against the host
 * CPU. Generates cases (gen.c), runs each natively in a child process
 * (native.c) and on the soft CPU (soft.c), and compares GPRs, RIP, the
 * defined arithmetic flags and DF, XMM registers, MXCSR, the x87 state
 * (x87 cases), the data buffer and the exception vector.
 *
 *   difftest [--cases N] [--seed S] [--start I] [--family int|sse|x87|all]
 *            [--verbose] [--details K] [--native-only] [--code HEX]
 *            [--no-riprel] [--compat]
 *
 * One line per failing case, then "difftest: N passed, N failed"; exit
 * status 1 on any failure. Case I of seed S regenerates exactly with
 * --seed S --start I --cases 1 and the same --family. --code HEX runs the
 * given bytes instead of generated ones (inputs still from the seed; no
 * flag is masked): for minimal reproducers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "difftest.h"

#define CHUNK 512

struct opts {
	uint64_t cases, seed, start;
	unsigned families;
	bool verbose, native_only;
	unsigned details; /* detailed reports for the first K failures */
	uint8_t code[256]; /* --code: these bytes instead of generated ones */
	unsigned code_len;
};

static void gen_case(struct diff_case *c, uint64_t index, void *opaque)
{
	const struct opts *o = opaque;

	diff_generate(c, diff_case_seed(o->seed, o->start + index), o->families);
	if (o->code_len) {
		char text[128];
		unsigned off = 0;

		memcpy(c->code, o->code, o->code_len);
		c->code_len = o->code_len;
		c->ninsns = 0;
		while (off < c->code_len && c->ninsns < DIFF_MAX_INSNS) {
			unsigned n = diff_disasm(c->code, c->code_len, off, c->base, c->compat,
						 text, sizeof(text));

			c->undef_before[c->ninsns] = 0;
			c->fsw_before[c->ninsns] = 0xb8ff;
			c->insn_off[c->ninsns++] = (uint16_t)off;
			off += n ? n : 1;
		}
		c->flags_undef = 0;
		c->cmp_x87 = true;
		c->fsw_mask = 0xb8ff;
	}
}

static void parse_code(struct opts *o, const char *hex)
{
	while (*hex && o->code_len < sizeof(o->code)) {
		unsigned v;

		if (*hex == ' ' || *hex == ',') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1) {
			fprintf(stderr, "difftest: bad --code\n");
			exit(2);
		}
		o->code[o->code_len++] = (uint8_t)v;
		hex += hex[1] ? 2 : 1;
	}
}

static const char *status_name(uint32_t s)
{
	static const char *const names[] = { "end", "exception", "timeout", "shutdown",
					     "native-lost", "broken" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
					   "rsi", "rdi", "r8",	"r9",  "r10", "r11",
					   "r12", "r13", "r14", "r15" };

static uint32_t undef_at(const struct diff_case *c, const struct diff_result *r)
{
	if (r->status == DIFF_EXC) {
		for (unsigned i = 0; i < c->ninsns; i++)
			if (c->base + c->insn_off[i] == r->rip)
				return c->undef_before[i];
	}
	return c->flags_undef;
}

static uint16_t fsw_mask_at(const struct diff_case *c, const struct diff_result *r)
{
	if (r->status == DIFF_EXC) {
		for (unsigned i = 0; i < c->ninsns; i++)
			if (c->base + c->insn_off[i] == r->rip)
				return c->fsw_before[i];
	}
	return c->fsw_mask;
}

static bool st_valid(const struct x86_fxsave *fx, unsigned i)
{
	unsigned top = (fx->fsw >> 11) & 7;

	return (fx->ftw >> ((top + i) & 7)) & 1;
}

/* Appends a description of the first differences to buf; true when equal. */
static bool compare(const struct diff_case *c, const struct diff_result *n,
		    const struct diff_result *s, char *buf, size_t size)
{
	size_t len = 0;
	bool eq = true;

#define ADD(...)                                                                        \
	do {                                                                            \
		if (len < size)                                                         \
			len += (size_t)snprintf(buf + len, size - len, __VA_ARGS__);    \
		eq = false;                                                             \
	} while (0)

	buf[0] = 0;
	if (n->status != s->status || n->vector != s->vector) {
		ADD(" status native=%s/%u soft=%s/%u", status_name(n->status), n->vector,
		    status_name(s->status), s->vector);
		if (n->status != DIFF_END && n->status != DIFF_EXC)
			return false;
		if (s->status != DIFF_END && s->status != DIFF_EXC)
			return false;
	}
	if (n->status == DIFF_EXC && s->status == DIFF_EXC && n->vector == s->vector) {
		if (n->vector == X86_VEC_PF && (n->cr2 != s->cr2 || (n->error & 7) != (s->error & 7)))
			ADD(" #PF native=%#" PRIx64 "/err %#" PRIx64 " soft=%#" PRIx64 "/err %#" PRIx64,
			    n->cr2, n->error & 7, s->cr2, s->error & 7);
		if (n->vector == X86_VEC_GP && n->error != s->error)
			ADD(" #GP error native=%#" PRIx64 " soft=%#" PRIx64, n->error, s->error);
	}
	if (n->rip != s->rip)
		ADD(" rip native=%#" PRIx64 " soft=%#" PRIx64, n->rip, s->rip);
	for (unsigned i = 0; i < 16; i++)
		if ((n->gpr[i] ^ s->gpr[i]) & (c->compat ? 0xffffffffULL : ~0ULL))
			ADD(" %s native=%#" PRIx64 " soft=%#" PRIx64, gpr_names[i], n->gpr[i],
			    s->gpr[i]);
	{
		uint64_t m = DIFF_CMP_FLAGS & ~(uint64_t)undef_at(c, n);

		if ((n->rflags & m) != (s->rflags & m))
			ADD(" rflags native=%#" PRIx64 " soft=%#" PRIx64 " (mask %#" PRIx64 ")",
			    n->rflags & m, s->rflags & m, m);
	}
	for (unsigned i = 0; i < 16; i++)
		if (memcmp(n->fx.xmm[i], s->fx.xmm[i], 16)) {
			uint64_t a[2], b[2];

			memcpy(a, n->fx.xmm[i], 16);
			memcpy(b, s->fx.xmm[i], 16);
			ADD(" xmm%u native=%016" PRIx64 "%016" PRIx64 " soft=%016" PRIx64 "%016" PRIx64,
			    i, a[1], a[0], b[1], b[0]);
		}
	if (n->fx.mxcsr != s->fx.mxcsr)
		ADD(" mxcsr native=%#x soft=%#x", n->fx.mxcsr, s->fx.mxcsr);
	if (c->cmp_x87) {
		if (n->fx.fcw != s->fx.fcw)
			ADD(" fcw native=%#x soft=%#x", n->fx.fcw, s->fx.fcw);
		uint16_t fm = fsw_mask_at(c, n);

		if ((n->fx.fsw & fm) != (s->fx.fsw & fm))
			ADD(" fsw native=%#x soft=%#x (mask %#x)", n->fx.fsw & fm, s->fx.fsw & fm, fm);
		if (n->fx.ftw != s->fx.ftw)
			ADD(" ftw native=%#x soft=%#x", n->fx.ftw, s->fx.ftw);
		for (unsigned i = 0; i < 8; i++) {
			uint64_t am, bm;
			uint16_t ae, be;

			if (!st_valid(&n->fx, i) || !st_valid(&s->fx, i))
				continue;
			if (!memcmp(n->fx.st[i], s->fx.st[i], 10))
				continue;
			memcpy(&am, n->fx.st[i], 8);
			memcpy(&ae, n->fx.st[i] + 8, 2);
			memcpy(&bm, s->fx.st[i], 8);
			memcpy(&be, s->fx.st[i] + 8, 2);
			ADD(" st%u native=%04x:%016" PRIx64 " soft=%04x:%016" PRIx64, i, ae, am,
			    be, bm);
		}
	}
	for (unsigned i = 0; i < DIFF_DATA_SIZE; i++) {
		if (n->data[i] != s->data[i]) {
			unsigned j = i;

			while (j + 1 < DIFF_DATA_SIZE && j < i + 15 && n->data[j + 1] != s->data[j + 1])
				j++;
			ADD(" data[%#x..%#x]", i, j);
			for (unsigned k = i; k <= j; k++)
				ADD(" %02x/%02x", n->data[k], s->data[k]);
			break;
		}
	}
#undef ADD
	return eq;
}

static void print_code(const struct diff_case *c)
{
	char text[128];

	for (unsigned i = 0; i < c->ninsns; i++) {
		unsigned off = c->insn_off[i];
		unsigned end = i + 1 < c->ninsns ? c->insn_off[i + 1] : c->code_len;

		diff_disasm(c->code, c->code_len, off, c->base, c->compat, text,
			    sizeof(text));
		printf("    %#llx: ", (unsigned long long)(c->base + off));
		for (unsigned k = off; k < end; k++)
			printf("%02x", c->code[k]);
		printf("%*s %s\n", (int)(32 - 2 * (end - off)) > 0 ? (int)(32 - 2 * (end - off)) : 1,
		       "", text);
	}
	printf("    bytes:");
	for (unsigned k = 0; k < c->code_len; k++)
		printf(" %02x", c->code[k]);
	printf("\n");
}

static void print_regs(const char *what, const uint64_t *gpr, uint64_t rflags,
		       const struct x86_fxsave *fx, bool x87)
{
	printf("  %s:\n", what);
	for (unsigned i = 0; i < 16; i++)
		printf("    %-3s=%016" PRIx64 "%s", gpr_names[i], gpr[i], i % 4 == 3 ? "\n" : "");
	printf("    rflags=%#" PRIx64 " mxcsr=%#x\n", rflags, fx->mxcsr);
	for (unsigned i = 0; i < 16; i++) {
		uint64_t v[2];

		memcpy(v, fx->xmm[i], 16);
		printf("    xmm%-2u=%016" PRIx64 "%016" PRIx64 "%s", i, v[1], v[0],
		       i % 2 == 1 ? "\n" : "");
	}
	if (x87) {
		printf("    fcw=%#x fsw=%#x ftw=%#x\n", fx->fcw, fx->fsw, fx->ftw);
		for (unsigned i = 0; i < 8; i++) {
			uint64_t m;
			uint16_t e;

			memcpy(&m, fx->st[i], 8);
			memcpy(&e, fx->st[i] + 8, 2);
			printf("    st%u=%04x:%016" PRIx64 "%s", i, e, m, i % 4 == 3 ? "\n" : "");
		}
	}
}

static void print_result(const char *what, const struct diff_result *r, bool x87)
{
	char name[64];

	snprintf(name, sizeof(name), "%s (%s, vector %u, rip %#" PRIx64 ")", what,
		 status_name(r->status), r->vector, r->rip);
	print_regs(name, r->gpr, r->rflags, &r->fx, x87);
}

static const char *family_name(unsigned f)
{
	switch (f & DIFF_FAM_ALL) {
	case DIFF_FAM_INT:
		return "int";
	case DIFF_FAM_SSE:
		return "sse";
	case DIFF_FAM_X87:
		return "x87";
	default:
		return "all";
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: difftest [--cases N] [--seed S] [--start I] "
			"[--family int|sse|x87|all] [--verbose] [--details K] [--native-only]\n"
			"                [--code HEX] [--no-riprel] [--compat]\n");
	exit(2);
}

static uint64_t num_arg(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s)
		usage();
	return v;
}

static void parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){ .cases = 20000, .seed = 1, .families = DIFF_FAM_ALL, .details = 3 };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--verbose")) {
			o->verbose = true;
			continue;
		}
		if (!strcmp(a, "--compat")) {
			o->families |= DIFF_GEN_COMPAT;
			continue;
		}
		if (!strcmp(a, "--no-riprel")) {
			o->families |= DIFF_GEN_NO_RIPREL;
			continue;
		}
		if (!strcmp(a, "--native-only")) {
			o->native_only = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(a, "--cases"))
			o->cases = num_arg(argv[++i]);
		else if (!strcmp(a, "--seed"))
			o->seed = num_arg(argv[++i]);
		else if (!strcmp(a, "--start"))
			o->start = num_arg(argv[++i]);
		else if (!strcmp(a, "--code"))
			parse_code(o, argv[++i]);
		else if (!strcmp(a, "--details"))
			o->details = (unsigned)num_arg(argv[++i]);
		else if (!strcmp(a, "--family")) {
			const char *f = argv[++i];

			unsigned opt = o->families & ~(unsigned)DIFF_FAM_ALL;

			if (!strcmp(f, "int"))
				o->families = DIFF_FAM_INT | opt;
			else if (!strcmp(f, "sse"))
				o->families = DIFF_FAM_SSE | opt;
			else if (!strcmp(f, "x87"))
				o->families = DIFF_FAM_X87 | opt;
			else if (!strcmp(f, "all"))
				o->families = DIFF_FAM_ALL | opt;
			else
				usage();
		} else {
			usage();
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct diff_result *nat, *soft;
	struct diff_case *c;
	struct diff_soft *s = NULL;
	uint64_t passed = 0, failed = 0, shown = 0;
	char msg[2048];

	parse(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	nat = calloc(CHUNK, sizeof(*nat));
	soft = malloc(sizeof(*soft));
	c = malloc(sizeof(*c));
	if (!nat || !soft || !c) {
		fprintf(stderr, "difftest: out of memory\n");
		return 2;
	}
	if (!o.native_only) {
		s = diff_soft_new();
		if (!s) {
			fprintf(stderr, "difftest: cannot create the soft CPU\n");
			return 2;
		}
	}
	for (uint64_t base = 0; base < o.cases; base += CHUNK) {
		uint64_t n = o.cases - base < CHUNK ? o.cases - base : CHUNK;
		struct opts chunk = o;
		int ret;

		chunk.start = o.start + base;
		ret = diff_native_run(gen_case, &chunk, n, nat);
		if (ret) {
			fprintf(stderr, "difftest: native runner failed: %s\n", strerror(-ret));
			return 2;
		}
		for (uint64_t i = 0; i < n; i++) {
			uint64_t idx = chunk.start + i;
			bool ok;

			gen_case(c, i, &chunk);
			if (o.native_only) {
				ok = nat[i].status == DIFF_END || nat[i].status == DIFF_EXC;
				snprintf(msg, sizeof(msg), " status native=%s/%u",
					 status_name(nat[i].status), nat[i].vector);
			} else {
				diff_soft_run(s, c, soft);
				ok = compare(c, &nat[i], soft, msg, sizeof(msg));
			}
			if (ok && !o.verbose) {
				passed++;
				continue;
			}
			if (ok)
				passed++;
			else
				failed++;
			if (!ok) {
				char first[128];

				diff_disasm(c->code, c->code_len,
					    c->ninsns ? c->insn_off[c->ninsns - 1] : 0, c->base,
					    c->compat, first, sizeof(first));
				printf("FAIL case %" PRIu64 " (--seed %" PRIu64 " --start %" PRIu64
				       " --cases 1 --family %s%s%s) last: %s;%s\n",
				       idx, o.seed, idx, family_name(o.families),
				       (o.families & DIFF_GEN_NO_RIPREL) ? " --no-riprel" : "",
				       (o.families & DIFF_GEN_COMPAT) ? " --compat" : "", first, msg);
			}
			if (o.verbose || (!ok && shown < o.details)) {
				shown += !ok;
				printf("  case %" PRIu64 " seed %#" PRIx64 " family %s, %u insns%s:\n",
				       idx, c->seed, family_name(c->family), c->ninsns,
				       c->compat ? ", 32-bit compatibility mode (upper halves not compared)" : "");
				print_code(c);
				print_regs("input", c->gpr, c->rflags, &c->fx, c->cmp_x87);
				print_result("native", &nat[i], c->cmp_x87);
				if (!o.native_only)
					print_result("soft", soft, c->cmp_x87);
				printf("  undefined flags %#x, fsw mask %#x\n", undef_at(c, &nat[i]),
				       c->fsw_mask);
			}
		}
	}
	printf("difftest: %" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
	diff_soft_free(s);
	free(nat);
	free(soft);
	free(c);
	return failed ? 1 : 0;
}
