// SPDX-License-Identifier: Apache-2.0
/*
 * `osprey snapshot`: offline work on snapshot files (docs/snapshots.md).
 *
 *   osprey snapshot merge --diff-state S --diff-mem M --base-mem B
 *       applies Diff snapshot S/M onto the Full memory file B (through a
 *       copy renamed over B); S then restores with B as its memory file.
 *   osprey snapshot verify STATE
 *       checks a state file (magic, version, length, CRC-64) and prints
 *       its type and size.
 *
 * Exit status 0, or 1 with one message on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "snapshot/snapshot.h"

enum {
	OPT_DIFF_STATE = 256,
	OPT_DIFF_MEM,
	OPT_BASE_MEM,
	OPT_HELP,
};

static const struct option merge_options[] = {
	{ "diff-state", required_argument, NULL, OPT_DIFF_STATE },
	{ "diff-mem", required_argument, NULL, OPT_DIFF_MEM },
	{ "base-mem", required_argument, NULL, OPT_BASE_MEM },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void cli_snapshot_usage(void)
{
	printf("usage: osprey snapshot merge --diff-state STATE --diff-mem MEM --base-mem BASE\n"
	       "       osprey snapshot verify STATE\n"
	       "\n"
	       "  merge    writes the pages of Diff snapshot STATE/MEM into BASE, the memory\n"
	       "           file of the Full snapshot (or earlier merge) it was taken after\n"
	       "           (a copy renamed over BASE: a crash leaves the old BASE whole);\n"
	       "           STATE then restores with --restore-mem BASE\n"
	       "  verify   checks state file STATE (format version, length, CRC-64) and\n"
	       "           prints its type and size\n"
	       "\n"
	       "Exit status: 0 done, 1 error (one message on stderr).\n");
}

static int cmd_merge(int argc, char **argv)
{
	const char *diff_state = NULL, *diff_mem = NULL, *base_mem = NULL;
	char err[512] = "";
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", merge_options, NULL)) != -1) {
		switch (opt) {
		case OPT_DIFF_STATE:
			diff_state = optarg;
			break;
		case OPT_DIFF_MEM:
			diff_mem = optarg;
			break;
		case OPT_BASE_MEM:
			base_mem = optarg;
			break;
		case 'h':
		case OPT_HELP:
			cli_snapshot_usage();
			return 0;
		case ':':
			log_errx("snapshot", "option '%s' needs a value", argv[optind - 1]);
			return 1;
		default:
			log_errx("snapshot", "unknown option '%s' (see 'osprey snapshot --help')",
				 argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		log_errx("snapshot", "unexpected argument '%s'", argv[optind]);
		return 1;
	}
	if (!diff_state || !diff_mem || !base_mem) {
		log_errx("snapshot", "merge needs --diff-state, --diff-mem and --base-mem");
		return 1;
	}
	ret = snapshot_merge(diff_state, diff_mem, base_mem, err, sizeof(err));
	if (ret) {
		log_errx("snapshot", "merge: %s", err[0] ? err : strerror(-ret));
		return 1;
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct snapshot_file f = { 0 };
	char err[512] = "";

	if (argc != 2 || argv[1][0] == '-') {
		log_errx("snapshot", "usage: osprey snapshot verify STATE");
		return 1;
	}
	if (snapshot_file_read(argv[1], &f, err, sizeof(err))) {
		log_errx("snapshot", "%s: %s", argv[1], err[0] ? err : "invalid");
		return 1;
	}
	printf("%s: osprey snapshot format %d, %s, %zu bytes (body %zu)\n", argv[1],
	       SNAPSHOT_FORMAT_VERSION, f.type == SNAPSHOT_DIFF ? "Diff" : "Full", f.len,
	       f.body_len);
	snapshot_file_free(&f);
	return 0;
}

int cmd_snapshot(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cli_snapshot_usage();
		return argc < 2 ? 1 : 0;
	}
	if (strcmp(argv[1], "merge") == 0)
		return cmd_merge(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	log_errx("snapshot", "unknown subcommand '%s' (merge or verify)", argv[1]);
	return 1;
}
