// SPDX-License-Identifier: Apache-2.0
/* osprey: subcommand table. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("osprey %s\n", OSPREY_VERSION);
	return 0;
}

static void usage(void)
{
	printf("usage: osprey COMMAND [options]\n"
	       "\n"
	       "commands:\n"
	       "  run       boot a virtual machine (osprey run --help)\n"
	       "  --api-sock PATH [--config-file FILE]\n"
	       "            serve the Firecracker-compatible API (docs/api.md)\n"
	       "  --no-api --config-file FILE\n"
	       "            boot a Firecracker config file without an API socket\n"
	       "            (osprey --no-api --help: every top-level flag)\n"
	       "  snapshot  merge a Diff snapshot, verify a state file (osprey snapshot --help)\n"
	       "  version   print the version\n"
	       "  help      this help\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage();
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "snapshot", cmd_snapshot },
	{ "version", cmd_version },
	{ "--version", cmd_version },
	{ "help", cmd_help },
	{ "--help", cmd_help },
	{ "-h", cmd_help },
};

static void on_kick(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

static void setup_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Delivered through a signalfd in the main loop, never to vCPU threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	log_mark_start();
	if (argc < 2) {
		usage();
		return 1;
	}
	setup_signals();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	/* Firecracker-style top-level flags: osprey --api-sock PATH ... */
	if (strncmp(argv[1], "--", 2) == 0)
		return cmd_vmm(argc, argv);
	log_errx("main", "unknown command '%s' (see 'osprey help')", argv[1]);
	return 1;
}
