// SPDX-License-Identifier: Apache-2.0
/* `osprey run`: command-line front end onto struct vm_config. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/parse.h"
#include "cli/cli.h"
#include "loader/loader.h"
#include "snapshot/snapshot.h"
#include "vmm/seccomp.h"
#include "migration/migration.h"
#include "vmm/vm.h"
#include "vmm/vm_state.h"

enum {
	OPT_KERNEL = 'k',
	OPT_INITRD = 'i',
	OPT_CMDLINE = 'c',
	OPT_MEMORY = 'm',
	OPT_CPUS = 'n',
	OPT_HELP = 'h',
	OPT_CPU_TEMPLATE = 256,
	OPT_NO_SECCOMP,
	OPT_CONSOLE,
	OPT_LOG_LEVEL,
	OPT_ON_REBOOT,
	OPT_NO_DEFAULT_CMDLINE,
	OPT_RNG,
	OPT_DISK,
	OPT_NET,
	OPT_VSOCK,
	OPT_BALLOON,
	OPT_METRICS,
	OPT_ACCEL,
	OPT_TRACK_DIRTY,
	OPT_RESTORE,
	OPT_RESTORE_MEM,
	OPT_INCOMING,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "no-default-cmdline", no_argument, NULL, OPT_NO_DEFAULT_CMDLINE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "cpu-template", required_argument, NULL, OPT_CPU_TEMPLATE },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
	{ "rng", optional_argument, NULL, OPT_RNG },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "balloon", required_argument, NULL, OPT_BALLOON },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "track-dirty-pages", no_argument, NULL, OPT_TRACK_DIRTY },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "restore-mem", required_argument, NULL, OPT_RESTORE_MEM },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* --no-seccomp: not machine configuration either (docs/seccomp.md). */
static bool no_seccomp;

void cli_run_usage(void)
{
	printf("usage: osprey run --kernel PATH [options]\n"
	       "       osprey run --restore STATE --restore-mem MEM [--track-dirty-pages]\n"
	       "\n"
	       "Boots a virtual machine on KVM or on osprey's software CPU, or restores\n"
	       "one from a snapshot (docs/snapshots.md).\n"
	       "\n"
	       "  -k, --kernel PATH         bzImage (64-bit boot protocol) or ELF vmlinux (PVH note)\n"
	       "  -i, --initrd PATH         initial ramdisk (cpio, optionally compressed)\n"
	       "  -c, --cmdline STRING      kernel parameters appended to the defaults\n"
	       "      --no-default-cmdline  use only --cmdline, without osprey's defaults\n"
	       "  -m, --memory SIZE         guest RAM; suffixes K, M, G (default unit MiB; default %d)\n"
	       "  -n, --cpus N              vCPUs (default 1)\n"
	       "      --accel NAME          auto (default: kvm when /dev/kvm opens, else soft), kvm or soft\n"
	       "      --cpu-template NAME   auto (default), host, emulated or soft\n"
	       "      --console MODE        stdio (default), file:PATH, none, or virtio (hvc0 on stdio)\n"
	       "      --on-reboot ACTION    exit (default, status 2) or restart\n"
	       "      --disk PATH[,ro][,cache=none|writeback][,id=NAME][,bw=RATE][,ops=RATE]\n"
	       "                            virtio-blk disk on a raw image (repeatable)\n"
	       "      --net tap=NAME[,mac=MAC][,id=NAME][,rx-bw=RATE][,rx-ops=RATE][,tx-bw=RATE][,tx-ops=RATE]\n"
	       "                            virtio-net on a host tap device (repeatable)\n"
	       "      --vsock cid=N,uds=PATH    virtio-vsock, host side on Unix sockets\n"
	       "      --rng [bw=RATE][,ops=RATE]  virtio-rng entropy device (host getrandom)\n"
	       "      --balloon [target=SIZE][,deflate-on-oom][,stats=SECONDS]\n"
	       "                            virtio-balloon: the guest gives SIZE back to the host,\n"
	       "                            and reports its memory every SECONDS\n"
	       "      --no-seccomp          no per-thread seccomp filters (debugging; docs/seccomp.md)\n"
	       "      --metrics PATH        JSON metrics lines to PATH (file or FIFO) every 60 s\n"
	       "      --log-level LEVEL     error, warn (default), info or debug\n"
	       "      --track-dirty-pages   log dirty guest pages (Diff snapshots, migration)\n"
	       "      --restore STATE       restore the snapshot whose state file is STATE instead\n"
	       "                            of booting: the machine (devices, memory, console)\n"
	       "                            is the snapshot's; only --restore-mem,\n"
	       "                            --track-dirty-pages, --metrics and --log-level go with it\n"
	       "      --restore-mem MEM     the snapshot's memory file (mapped copy-on-write;\n"
	       "                            default: STATE with .mem for its last extension)\n"
	       "      --incoming URI        receive a migrating machine on unix:PATH or\n"
	       "                            tcp:HOST:PORT instead of booting (docs/migration.md)\n"
	       "  RATE: N/MS[+BURST], N bytes (bw: 64K, 10M) or operations per MS ms\n"
	       "  -h, --help                this help\n"
	       "\n"
	       "Exit status: 0 guest powered off, 1 osprey error, 2 guest rebooted,\n"
	       "3 guest crashed (triple fault, emulation failure), 128+N signal N.\n"
	       "Console escapes on a terminal: Ctrl-A x quit, Ctrl-A d Ctrl-Alt-Del,\n"
	       "Ctrl-A b balloon state, Ctrl-A h help.\n",
	       VM_DEFAULT_MEM_MIB);
}

static int parse_console(const char *arg, struct vm_config *cfg)
{
	if (strcmp(arg, "stdio") == 0) {
		cfg->console = CONSOLE_STDIO;
	} else if (strcmp(arg, "none") == 0) {
		cfg->console = CONSOLE_NONE;
	} else if (strcmp(arg, "virtio") == 0) {
		cfg->console = CONSOLE_STDIO;
		cfg->console_virtio = true;
	} else if (strncmp(arg, "file:", 5) == 0) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = arg + 5;
	} else {
		return -EINVAL;
	}
	return 0;
}

/* The long name of option value opt, NULL if none. */
static const char *option_name(int opt)
{
	for (const struct option *o = run_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return NULL;
}

/* --metrics PATH: not machine configuration, so not in vm_config. */
static const char *metrics_path;
/* --restore STATE, --restore-mem MEM; the first machine option given (not with --restore). */
static const char *restore_state, *restore_mem, *machine_opt;
/* --incoming URI: the machine comes from a migration stream. */
static const char *incoming_uri;

int cli_parse_run(int argc, char **argv, struct vm_config *cfg, char *err, size_t errlen)
{
	enum log_level level;
	uint64_t v;
	int opt, ret;

	metrics_path = restore_state = restore_mem = machine_opt = NULL;
	metrics_path = NULL;
	incoming_uri = NULL;
	optind = 0; /* GNU getopt: full reset, so the parser can run more than once */
	opterr = 0;
	no_seccomp = false;
	while ((opt = getopt_long(argc, argv, ":k:i:c:m:n:h", run_options, NULL)) != -1) {
		if (!machine_opt && opt != OPT_RESTORE && opt != OPT_RESTORE_MEM &&
		    opt != OPT_TRACK_DIRTY && opt != OPT_METRICS && opt != OPT_LOG_LEVEL)
			machine_opt = option_name(opt);
		switch (opt) {
		case OPT_KERNEL:
			cfg->kernel_path = optarg;
			break;
		case OPT_INITRD:
			cfg->initrd_path = optarg;
			break;
		case OPT_CMDLINE:
			cfg->cmdline = optarg;
			break;
		case OPT_NO_DEFAULT_CMDLINE:
			cfg->no_default_cmdline = true;
			break;
		case OPT_MEMORY:
			ret = parse_size(optarg, 20, &v);
			if (ret) {
				snprintf(err, errlen, "--memory '%s': %s", optarg,
					 ret == -ERANGE ? "too large" :
							  "expected a size such as 512M or 2G");
				return -EINVAL;
			}
			cfg->mem_size = v;
			break;
		case OPT_CPUS:
			ret = parse_u64(optarg, &v);
			if (ret || v > 0xffffffffULL) {
				snprintf(err, errlen, "--cpus '%s': expected a number", optarg);
				return -EINVAL;
			}
			cfg->ncpus = (unsigned)v;
			break;
		case OPT_CPU_TEMPLATE:
			cfg->cpu_template = optarg;
			break;
		case OPT_ACCEL:
			cfg->accel = optarg;
			break;
		case OPT_CONSOLE:
			if (parse_console(optarg, cfg)) {
				snprintf(err, errlen,
					 "--console '%s': expected stdio, file:PATH, none or virtio",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_ON_REBOOT:
			if (strcmp(optarg, "exit") == 0) {
				cfg->on_reboot = REBOOT_EXIT;
			} else if (strcmp(optarg, "restart") == 0) {
				cfg->on_reboot = REBOOT_RESTART;
			} else {
				snprintf(err, errlen, "--on-reboot '%s': expected exit or restart",
					 optarg);
				return -EINVAL;
			}
			break;
		case OPT_LOG_LEVEL:
			if (log_parse_level(optarg, &level)) {
				snprintf(err, errlen,
					 "--log-level '%s': expected error, warn, info or debug",
					 optarg);
				return -EINVAL;
			}
			log_set_level(level);
			break;
		case OPT_NO_SECCOMP:
			no_seccomp = true;
			break;
		case OPT_RNG:
			/* "--rng", "--rng=SPEC", or "--rng SPEC" when SPEC is a rate. */
			if (!optarg && optind < argc &&
			    (!strncmp(argv[optind], "bw=", 3) || !strncmp(argv[optind], "ops=", 4)))
				optarg = argv[optind++];
			if (optarg && vm_config_parse_rng(optarg, &cfg->rng_rate_limit, err, errlen))
				return -EINVAL;
			cfg->rng = true;
			break;
		case OPT_DISK:
			if (cfg->ndisks == VM_MAX_DISKS) {
				snprintf(err, errlen, "--disk: at most %d disks", VM_MAX_DISKS);
				return -EINVAL;
			}
			if (vm_config_parse_disk(optarg, &cfg->disks[cfg->ndisks], err, errlen))
				return -EINVAL;
			cfg->ndisks++;
			break;
		case OPT_NET:
			if (cfg->nnets == VM_MAX_NETS) {
				snprintf(err, errlen, "--net: at most %d interfaces", VM_MAX_NETS);
				return -EINVAL;
			}
			if (vm_config_parse_net(optarg, &cfg->nets[cfg->nnets], err, errlen))
				return -EINVAL;
			cfg->nnets++;
			break;
		case OPT_VSOCK:
			if (cfg->vsock.enabled) {
				snprintf(err, errlen, "--vsock: only one vsock device");
				return -EINVAL;
			}
			if (vm_config_parse_vsock(optarg, &cfg->vsock, err, errlen))
				return -EINVAL;
			break;
		case OPT_BALLOON:
			if (cfg->balloon.enabled) {
				snprintf(err, errlen, "--balloon: only one balloon device");
				return -EINVAL;
			}
			if (vm_config_parse_balloon(optarg, &cfg->balloon, err, errlen))
				return -EINVAL;
			break;
		case OPT_METRICS:
			metrics_path = optarg;
			break;
		case OPT_TRACK_DIRTY:
			cfg->track_dirty_pages = true;
			break;
		case OPT_RESTORE:
			restore_state = optarg;
			break;
		case OPT_RESTORE_MEM:
			restore_mem = optarg;
			break;
		case OPT_INCOMING:
			incoming_uri = optarg;
			break;
		case OPT_HELP:
			cli_run_usage();
			return 1;
		case ':':
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			/*
			 * An unknown letter inside a cluster ("-zk") leaves optind on
			 * the cluster: argv[optind - 1] is a neighbour, so name the
			 * letter. Unknown long options have optopt 0.
			 */
			if (optopt > 0 && optopt < 256 && !strchr("kicmnh", optopt))
				snprintf(err, errlen,
					 "unknown option '-%c' (see 'osprey run --help')", optopt);
			else
				snprintf(err, errlen,
					 "unknown option '%s' (see 'osprey run --help')",
					 argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see 'osprey run --help')",
			 argv[optind]);
		return -EINVAL;
	}
	if (restore_state && machine_opt) {
		snprintf(err, errlen,
			 "--restore: the machine comes from the snapshot, --%s cannot be given with it",
			 machine_opt);
		return -EINVAL;
	}
	if (restore_mem && !restore_state) {
		snprintf(err, errlen, "--restore-mem needs --restore STATE");
		return -EINVAL;
	}
	return 0;
}

/* STATE with its last extension replaced by ".mem" (or ".mem" added). */
static char *default_mem_path(const char *state)
{
	const char *slash = strrchr(state, '/'), *dot = strrchr(state, '.');
	size_t base = strlen(state);
	char *p;

	if (dot && (!slash || dot > slash + 1))
		base = (size_t)(dot - state);
	p = malloc(base + 5);
	if (p) {
		memcpy(p, state, base);
		memcpy(p + base, ".mem", 5);
	}
	return p;
}

/*
 * One run of a machine that did not boot here (--restore, --incoming):
 * cfg came with it and goes with it. A reboot cannot restart a machine
 * that has no kernel to boot: it ends the run.
 */
static int run_adopted(struct vm *vm, struct vm_config *cfg)
{
	int status = vm_run(vm);

	if (metrics_path)
		(void)metrics_flush();
	vm_destroy(vm);
	vm_config_free_strings(cfg);
	free(cfg);
	metrics_shutdown();
	log_info("run", "exit status %d after %.1f ms", status, log_ms_since_start());
	return status;
}

/* `osprey run --restore STATE [--restore-mem MEM]`: one run of the restored machine. */
static int run_restore(bool track_dirty)
{
	struct snapshot_load_params p = { .resume = true, .enable_diff_snapshots = track_dirty };
	struct vm_config *cfg = NULL;
	char *mem = NULL, err[512] = "";
	struct vm *vm = NULL;
	int ret;

	if (!restore_mem) {
		mem = default_mem_path(restore_state);
		if (!mem) {
			log_errx("run", "out of memory");
			return VM_EXIT_ERROR;
		}
	}
	p.state_path = restore_state;
	p.mem_path = restore_mem ? restore_mem : mem;
	/* Before any thread: they inherit no_new_privs. */
	ret = vmm_seccomp_configure(!no_seccomp, err, sizeof(err));
	if (!ret && metrics_path)
		ret = metrics_init(metrics_path, err, sizeof(err));
	if (ret) {
		log_errx("run", "%s", err);
		free(mem);
		return VM_EXIT_ERROR;
	}
	/* This thread builds and runs the restored machine: the vmm kind. */
	vmm_seccomp_enter(VMM_SECCOMP_VMM, 0);
	ret = snapshot_load(&p, &cfg, &vm, err, sizeof(err));
	if (ret) {
		log_errx("run", "cannot restore %s: %s", restore_state,
			 err[0] ? err : strerror(-ret));
		metrics_shutdown();
		free(mem);
		return VM_EXIT_ERROR;
	}
	log_info("run", "restored %s (memory %s) at %.1f ms", p.state_path, p.mem_path,
		 log_ms_since_start());
	free(mem);
	return run_adopted(vm, cfg);
}

/* --incoming: the machine (and its configuration) come from the source. */
static int run_incoming(const struct vm_config *cli)
{
	struct migration_receive_opts o = { .console = cli->console,
					    .console_path = cli->console_path };
	struct vm_config *cfg;
	char err[256] = "";
	struct vm *vm;

	if (cli->kernel_path || cli->initrd_path || cli->cmdline || cli->ndisks || cli->nnets)
		log_warnx("run", "--incoming: the machine comes from the source; "
				 "--kernel, --initrd, --cmdline, --disk and --net are ignored");
	/* Before any thread: they inherit no_new_privs. */
	if (vmm_seccomp_configure(!no_seccomp, err, sizeof(err)) ||
	    (metrics_path && metrics_init(metrics_path, err, sizeof(err)))) {
		log_errx("run", "%s", err);
		return VM_EXIT_ERROR;
	}
	/* This thread receives, builds and runs the machine: the vmm kind. */
	vmm_seccomp_enter(VMM_SECCOMP_VMM, 0);
	if (migration_receive_ex(incoming_uri, &o, &cfg, &vm, err, sizeof(err))) {
		log_errx("run", "incoming migration: %s", err);
		metrics_shutdown();
		return VM_EXIT_ERROR;
	}
	return run_adopted(vm, cfg);
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	struct sysinfo si;
	char err[256] = "";
	uint64_t host_ram = 0;
	struct vm *vm;
	int ret, status;

	vm_config_init(&cfg);
	ret = cli_parse_run(argc, argv, &cfg, err, sizeof(err));
	if (ret == 1)
		return 0;
	if (!ret && restore_state)
		return run_restore(cfg.track_dirty_pages);
	if (!ret && incoming_uri)
		return run_incoming(&cfg);
	if (sysinfo(&si) == 0)
		host_ram = (uint64_t)si.totalram * si.mem_unit;
	if (!ret)
		ret = vm_config_validate(&cfg, host_ram, err, sizeof(err));
	if (!ret)
		ret = loader_check_readable("kernel", ": ", cfg.kernel_path, err, sizeof(err));
	if (!ret)
		ret = loader_check_readable("initrd", ": ", cfg.initrd_path, err, sizeof(err));
	/* Before any thread: they inherit no_new_privs. */
	if (!ret)
		ret = vmm_seccomp_configure(!no_seccomp, err, sizeof(err));
	if (!ret && metrics_path)
		ret = metrics_init(metrics_path, err, sizeof(err));
	if (ret) {
		log_errx("run", "%s", err);
		return VM_EXIT_ERROR;
	}
	/* This thread builds and runs the machines: the vmm kind. */
	vmm_seccomp_enter(VMM_SECCOMP_VMM, 0);
	for (;;) {
		if (vm_create(&cfg, &vm)) {
			metrics_shutdown();
			return VM_EXIT_ERROR;
		}
		status = vm_run(vm);
		if (metrics_path)
			(void)metrics_flush(); /* the devices' final counters, before they go */
		vm_destroy(vm);
		if (status != VM_EXIT_REBOOT || cfg.on_reboot != REBOOT_RESTART)
			break;
		log_info("run", "guest rebooted: restarting");
	}
	metrics_shutdown(); /* a last line with the final counters */
	log_info("run", "exit status %d after %.1f ms", status, log_ms_since_start());
	return status;
}
