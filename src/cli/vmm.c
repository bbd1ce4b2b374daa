// SPDX-License-Identifier: Apache-2.0
/*
 * `osprey --api-sock PATH [...]`: the Firecracker-style front end. The
 * machine is configured through the REST API (api/) and/or a
 * --config-file, started by InstanceStart, and the process exits when the
 * guest powers off or reboots, with `osprey run`'s exit statuses.
 *
 * Threads: this (main) thread waits for signals and for the end of the
 * run; the API server has its own thread; InstanceStart starts the VMM
 * thread (vm_run) and the vCPU threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/backend_vmm.h"
#include "api/server.h"
#include "api/setup.h"
#include "base/log.h"
#include "base/log.h"
#include "cli/cli.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

/* Larger than any API body: a file may hold many drives and interfaces. */
#define CONFIG_FILE_MAX (1 << 20)

enum {
	OPT_API_SOCK = 256,
	OPT_CONFIG_FILE,
	OPT_NO_API,
	OPT_LOG_LEVEL,
	OPT_ID,
	OPT_BOOT_TIMER,
	OPT_NO_SECCOMP,
	OPT_HELP,
};

static const struct option vmm_options[] = {
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "config-file", required_argument, NULL, OPT_CONFIG_FILE },
	{ "no-api", no_argument, NULL, OPT_NO_API },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "id", required_argument, NULL, OPT_ID },
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct vmm_args {
	const char *api_sock;
	const char *config_file;
	const char *id;
	bool no_api;
	bool no_seccomp;
};

void cli_vmm_usage(void)
{
	printf("usage: osprey --api-sock PATH [--config-file FILE] [options]\n"
	       "       osprey --no-api --config-file FILE [options]\n"
	       "\n"
	       "Serves the Firecracker-compatible REST API on a Unix socket; the machine\n"
	       "boots on InstanceStart (or at once with --config-file), and osprey exits\n"
	       "when the guest powers off or reboots. See docs/api.md.\n"
	       "\n"
	       "      --api-sock PATH      the API socket (a stale socket file is replaced)\n"
	       "      --config-file FILE   configure from a Firecracker JSON config file and boot\n"
	       "      --no-api             no API socket (needs --config-file)\n"
	       "      --id ID              instance id reported by GET /\n"
	       "      --log-level LEVEL    Error, Warning (default), Info, Debug, Trace or Off\n"
	       "      --boot-timer         accepted (osprey always logs boot-marker times)\n"
	       "      --no-seccomp         no per-thread seccomp filters (debugging; docs/seccomp.md)\n"
	       "  -h, --help               this help\n"
	       "\n"
	       "Exit status: 0 guest powered off, 1 osprey error, 2 guest rebooted,\n"
	       "3 guest crashed, 128+N signal N.\n");
}

static int cli_parse_vmm(int argc, char **argv, struct vmm_args *a, char *err, size_t errlen)
{
	enum log_level level;
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", vmm_options, NULL)) != -1) {
		switch (opt) {
		case OPT_API_SOCK:
			a->api_sock = optarg;
			break;
		case OPT_CONFIG_FILE:
			a->config_file = optarg;
			break;
		case OPT_NO_API:
			a->no_api = true;
			break;
		case OPT_LOG_LEVEL:
			if (log_parse_level(optarg, &level)) {
				snprintf(err, errlen,
					 "--log-level '%s': expected Error, Warning, Info, Debug, Trace or Off",
					 optarg);
				return -EINVAL;
			}
			log_set_level(level);
			break;
		case OPT_ID:
			if (!*optarg || strlen(optarg) > 64) {
				snprintf(err, errlen, "--id: 1 to 64 characters");
				return -EINVAL;
			}
			a->id = optarg;
			break;
		case OPT_BOOT_TIMER:
			break;
		case OPT_NO_SECCOMP:
			a->no_seccomp = true;
			break;
		case 'h':
		case OPT_HELP:
			cli_vmm_usage();
			return 1;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s' (see 'osprey --help')",
				 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see 'osprey --help')",
			 argv[optind]);
		return -EINVAL;
	}
	if (a->no_api && !a->config_file) {
		snprintf(err, errlen, "--no-api needs --config-file");
		return -EINVAL;
	}
	if (a->no_api && a->api_sock) {
		snprintf(err, errlen, "--no-api and --api-sock exclude each other");
		return -EINVAL;
	}
	if (!a->no_api && !a->api_sock) {
		snprintf(err, errlen, "--api-sock PATH is required (or --no-api --config-file FILE)");
		return -EINVAL;
	}
	return 0;
}

/* Reads the whole file (at most CONFIG_FILE_MAX bytes) into a malloc'd buffer. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--config-file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "--config-file %s: not a regular file of at most %d bytes", path,
			 CONFIG_FILE_MAX);
		ret = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "--config-file %s: out of memory", path);
		goto out;
	}
	while (used < (size_t)st.st_size && (n = read(fd, buf + used, (size_t)st.st_size - used)) > 0)
		used += (size_t)n;
	*out = buf;
	*len = used;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Until the run ends or a signal arrives (before the start: the end). */
static int wait_for_end(struct api_vmm *vmm)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	sigset_t sigs;
	int sfd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	/* main() blocked these in every thread. */
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_err("vmm", "signalfd");
		return VM_EXIT_ERROR;
	}
	pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = vmm->done_efd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("vmm", "poll");
			close(sfd);
			return VM_EXIT_ERROR;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			log_info("vmm", "stopping on signal %u", si.ssi_signo);
			if (!api_vmm_started(vmm)) {
				close(sfd);
				return VM_EXIT_SIGNAL + (int)si.ssi_signo;
			}
			api_vmm_request_exit(vmm, VM_EXIT_SIGNAL + (int)si.ssi_signo);
		}
	}
	close(sfd);
	return -1; /* the run's own status */
}

int cmd_vmm(int argc, char **argv)
{
	struct vmm_args a;
	struct api_vmm vmm;
	struct api_ctx *ctx = NULL;
	struct api_server *srv = NULL;
	char err[API_ERR_BUF] = "", *text = NULL;
	size_t len = 0;
	int ret, end = VM_EXIT_ERROR;

	ret = cli_parse_vmm(argc, argv, &a, err, sizeof(err));
	if (ret == 1)
		return 0;
	/* Before any thread: they inherit no_new_privs. */
	if (!ret)
		ret = vmm_seccomp_configure(!a.no_seccomp, err, sizeof(err));
	if (ret) {
		log_errx("vmm", "%s", err);
		return VM_EXIT_ERROR;
	}
	if (a.config_file && read_file(a.config_file, &text, &len, err, sizeof(err))) {
		log_errx("vmm", "%s", err);
		return VM_EXIT_ERROR;
	}
	if (api_vmm_init(&vmm)) {
		free(text);
		return VM_EXIT_ERROR;
	}
	ctx = api_ctx_create(&api_vmm_backend, &vmm);
	if (!ctx || (a.id && api_ctx_set_instance_id(ctx, a.id))) {
		log_errx("vmm", "out of memory");
		goto out;
	}
	/*
	 * The file first, on this thread, then the server: api_handle() is
	 * only ever called from one thread at a time.
	 */
	if (text && api_config_apply(ctx, text, len, err, sizeof(err))) {
		log_errx("vmm", "--config-file %s: %s", a.config_file, err);
		goto out;
	}
	if (!a.no_api && api_server_start(a.api_sock, ctx, &srv))
		goto out;
	/* Everything runs: from here this thread only waits and tears down. */
	vmm_seccomp_enter(VMM_SECCOMP_MAIN, 0);
	end = wait_for_end(&vmm); /* -1: the run's own status */
out:
	api_server_stop(srv);
	/* An error after a config-file start (the socket): end that machine. */
	if (end >= 0)
		api_vmm_request_exit(&vmm, end);
	ret = api_vmm_finish(&vmm);
	api_ctx_destroy(ctx);
	free(text);
	return end < 0 ? ret : end;
}
