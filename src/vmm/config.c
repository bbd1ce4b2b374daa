// SPDX-License-Identifier: Apache-2.0
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu_template.h"
#include "arch/x86/mptable.h"
#include "base/parse.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = (uint64_t)VM_DEFAULT_MEM_MIB << 20;
	cfg->ncpus = 1;
	cfg->cpu_template = "auto";
	cfg->console = CONSOLE_STDIO;
	cfg->on_reboot = REBOOT_EXIT;
}

int vm_config_validate(const struct vm_config *cfg, uint64_t host_ram, char *err,
		       size_t errlen)
{
	if (!cfg->kernel_path || !*cfg->kernel_path) {
		snprintf(err, errlen, "no kernel given (use --kernel PATH)");
		return -EINVAL;
	}
	if (cfg->mem_size == 0) {
		snprintf(err, errlen, "--memory must be larger than 0");
		return -EINVAL;
	}
	if (cfg->mem_size < VM_MIN_MEM) {
		snprintf(err, errlen, "--memory %llu KiB is below the minimum of %llu MiB",
			 (unsigned long long)(cfg->mem_size >> 10),
			 (unsigned long long)(VM_MIN_MEM >> 20));
		return -EINVAL;
	}
	if (cfg->mem_size % 4096) {
		snprintf(err, errlen, "--memory must be a multiple of 4 KiB");
		return -EINVAL;
	}
	if (host_ram && cfg->mem_size > host_ram) {
		snprintf(err, errlen, "--memory %llu MiB is more than the host has (%llu MiB)",
			 (unsigned long long)(cfg->mem_size >> 20),
			 (unsigned long long)(host_ram >> 20));
		return -EINVAL;
	}
	if (cfg->ncpus == 0) {
		snprintf(err, errlen, "--cpus must be at least 1");
		return -EINVAL;
	}
	if (cfg->ncpus > MPTABLE_MAX_CPUS) {
		snprintf(err, errlen, "--cpus %u is above the maximum of %u", cfg->ncpus,
			 MPTABLE_MAX_CPUS);
		return -EINVAL;
	}
	if (strcmp(cfg->cpu_template, "auto") != 0 && !cpu_template_find(cfg->cpu_template)) {
		snprintf(err, errlen, "--cpu-template: unknown CPU template '%s' (known: %s)",
			 cfg->cpu_template, cpu_template_names());
		return -EINVAL;
	}
	if (cfg->console == CONSOLE_FILE && (!cfg->console_path || !*cfg->console_path)) {
		snprintf(err, errlen, "--console file: needs a path (file:PATH)");
		return -EINVAL;
	}
	for (unsigned i = 0; i < cfg->ndisks; i++) {
		if (!cfg->disks[i].path || !*cfg->disks[i].path) {
			snprintf(err, errlen, "--disk: empty path");
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			if (cfg->disks[i].id && cfg->disks[j].id &&
			    strcmp(cfg->disks[i].id, cfg->disks[j].id) == 0) {
				snprintf(err, errlen, "--disk: id '%s' used twice", cfg->disks[i].id);
				return -EINVAL;
			}
		}
	}
	if (cfg->balloon.enabled && cfg->balloon.target > cfg->mem_size) {
		snprintf(err, errlen, "--balloon target=%llu MiB is more than --memory (%llu MiB)",
			 (unsigned long long)(cfg->balloon.target >> 20),
			 (unsigned long long)(cfg->mem_size >> 20));
		return -EINVAL;
	}
	if (cfg->cmdline && strlen(cfg->cmdline) >= VM_CMDLINE_MAX) {
		snprintf(err, errlen, "--cmdline is %zu bytes, the limit is %d", strlen(cfg->cmdline),
			 VM_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

int vm_config_parse_disk(char *spec, struct vm_disk_config *disk, char *err, size_t errlen)
{
	char *save = NULL, *opt;

	memset(disk, 0, sizeof(*disk));
	disk->cache = DISK_CACHE_WRITEBACK;
	disk->path = strtok_r(spec, ",", &save);
	if (!disk->path || !*disk->path || spec[0] == ',') {
		snprintf(err, errlen, "--disk: expected PATH[,ro][,cache=none|writeback][,id=NAME]");
		return -EINVAL;
	}
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (strcmp(opt, "ro") == 0) {
			disk->read_only = true;
		} else if (strcmp(opt, "rw") == 0) {
			disk->read_only = false;
		} else if (strcmp(opt, "cache=none") == 0) {
			disk->cache = DISK_CACHE_NONE;
		} else if (strcmp(opt, "cache=writeback") == 0) {
			disk->cache = DISK_CACHE_WRITEBACK;
		} else if (strncmp(opt, "id=", 3) == 0) {
			disk->id = opt + 3;
			if (!*disk->id || strlen(disk->id) > VM_DISK_ID_MAX) {
				snprintf(err, errlen, "--disk %s: id must be 1 to %d characters",
					 disk->path, VM_DISK_ID_MAX);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen,
				 "--disk %s: unknown option '%s' (ro, cache=none|writeback, id=NAME)",
				 disk->path, opt);
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return -EINVAL; /* multicast */
	return 0;
}

int vm_config_parse_net(char *spec, struct vm_net_config *net, char *err, size_t errlen)
{
	char *save = NULL, *opt;

	memset(net, 0, sizeof(*net));
	for (opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "tap=", 4) == 0) {
			net->tap = opt + 4;
			if (!*net->tap || strlen(net->tap) >= 16) {
				snprintf(err, errlen, "--net: tap name must be 1 to 15 characters");
				return -EINVAL;
			}
		} else if (strncmp(opt, "mac=", 4) == 0) {
			if (parse_mac(opt + 4, net->mac)) {
				snprintf(err, errlen,
					 "--net: mac '%s' is not a unicast address like 02:00:00:00:00:01",
					 opt + 4);
				return -EINVAL;
			}
			net->has_mac = true;
		} else {
			snprintf(err, errlen, "--net: unknown option '%s' (tap=NAME[,mac=MAC])", opt);
			return -EINVAL;
		}
	}
	if (!net->tap) {
		snprintf(err, errlen, "--net: needs tap=NAME");
		return -EINVAL;
	}
	return 0;
}

int vm_config_parse_vsock(char *spec, struct vm_vsock_config *vsock, char *err, size_t errlen)
{
	char *save = NULL, *opt;
	uint64_t cid = 0;
	bool have_cid = false;

	memset(vsock, 0, sizeof(*vsock));
	for (opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "cid=", 4) == 0) {
			if (parse_u64(opt + 4, &cid) || cid < 3 || cid > 0xfffffffeULL) {
				snprintf(err, errlen, "--vsock: cid must be a number from 3 to 4294967294");
				return -EINVAL;
			}
			have_cid = true;
		} else if (strncmp(opt, "uds=", 4) == 0) {
			vsock->uds = opt + 4;
			if (!*vsock->uds || strlen(vsock->uds) >= 100) {
				snprintf(err, errlen, "--vsock: uds path must be 1 to 99 characters");
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "--vsock: unknown option '%s' (cid=N,uds=PATH)", opt);
			return -EINVAL;
		}
	}
	if (!have_cid || !vsock->uds) {
		snprintf(err, errlen, "--vsock: needs cid=N,uds=PATH");
		return -EINVAL;
	}
	vsock->cid = (uint32_t)cid;
	vsock->enabled = true;
	return 0;
}

int vm_config_parse_balloon(char *spec, struct vm_balloon_config *balloon, char *err,
			    size_t errlen)
{
	char *save = NULL, *opt;
	uint64_t v;
	int ret;

	memset(balloon, 0, sizeof(*balloon));
	for (opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (strncmp(opt, "target=", 7) == 0) {
			ret = parse_size(opt + 7, 20, &v);
			if (ret || v % 4096 || v / 4096 > UINT32_MAX) {
				snprintf(err, errlen,
					 "--balloon: target '%s' is not a size such as 64M (a multiple of 4 KiB)",
					 opt + 7);
				return -EINVAL;
			}
			balloon->target = v;
		} else if (strcmp(opt, "deflate-on-oom") == 0) {
			balloon->deflate_on_oom = true;
		} else if (strncmp(opt, "stats=", 6) == 0) {
			if (parse_u64(opt + 6, &v) || v > VM_BALLOON_STATS_MAX) {
				snprintf(err, errlen,
					 "--balloon: stats '%s' must be 0 to %d seconds", opt + 6,
					 VM_BALLOON_STATS_MAX);
				return -EINVAL;
			}
			balloon->stats_interval = (unsigned)v;
		} else {
			snprintf(err, errlen,
				 "--balloon: unknown option '%s' (target=SIZE, deflate-on-oom, stats=SECONDS)",
				 opt);
			return -EINVAL;
		}
	}
	balloon->enabled = true;
	return 0;
}

const char *vm_config_console_param(const struct vm_config *cfg)
{
	return cfg->console_virtio ? VM_CONSOLE_VIRTIO : VM_CONSOLE_SERIAL;
}
