// SPDX-License-Identifier: Apache-2.0
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accel/accel.h"
#include "arch/x86/cpu_template.h"
#include "arch/x86/mptable.h"
#include "base/parse.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = (uint64_t)VM_DEFAULT_MEM_MIB << 20;
	cfg->ncpus = 1;
	cfg->cpu_template = "auto";
	cfg->accel = "auto";
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
	if (cfg->accel && strcmp(cfg->accel, "auto") != 0 && !accel_find(cfg->accel)) {
		snprintf(err, errlen, "--accel: unknown accelerator '%s' (known: %s)", cfg->accel,
			 ACCEL_NAMES);
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

/*
 * "N/MS[+BURST]" into a bucket. For bandwidth (bytes) N and BURST are
 * sizes with the units of parse_size() (a bare number is bytes).
 */
int vm_config_parse_bucket(const char *spec, bool bytes, struct rate_bucket_config *b,
			   const char *what, char *err, size_t errlen)
{
	char buf[96], *slash, *plus;
	uint64_t n, ms, burst = 0;
	int ret;

	if (strlen(spec) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", spec);
	slash = strchr(buf, '/');
	if (!slash)
		goto bad;
	*slash++ = '\0';
	plus = strchr(slash, '+');
	if (plus)
		*plus++ = '\0';
	ret = bytes ? parse_size(buf, 0, &n) : parse_u64(buf, &n);
	if (ret || n == 0)
		goto bad;
	if (parse_u64(slash, &ms) || ms == 0)
		goto bad;
	if (plus && (bytes ? parse_size(plus, 0, &burst) : parse_u64(plus, &burst)))
		goto bad;
	b->size = n;
	b->refill_time_ms = ms;
	b->one_time_burst = burst;
	return 0;
bad:
	snprintf(err, errlen, "%s '%s': expected %s/MS[+BURST] with %s > 0 and MS > 0 (e.g. %s)",
		 what, spec, bytes ? "BYTES" : "OPS", bytes ? "BYTES" : "OPS",
		 bytes ? "10M/1000+4M" : "1000/1000");
	return -EINVAL;
}

/* Handles "bw=" and "ops=" after `prefix` (""/"rx-"/"tx-"); 1 if opt was not one. */
static int parse_rate_opt(const char *opt, const char *prefix, struct rate_limiter_config *rl,
			  const char *what, char *err, size_t errlen)
{
	size_t pl = strlen(prefix);
	char name[64];

	if (strncmp(opt, prefix, pl) != 0)
		return 1;
	if (strncmp(opt + pl, "bw=", 3) == 0) {
		snprintf(name, sizeof(name), "%s: %sbw", what, prefix);
		return vm_config_parse_bucket(opt + pl + 3, true, &rl->bandwidth, name, err, errlen);
	}
	if (strncmp(opt + pl, "ops=", 4) == 0) {
		snprintf(name, sizeof(name), "%s: %sops", what, prefix);
		return vm_config_parse_bucket(opt + pl + 4, false, &rl->ops, name, err, errlen);
	}
	return 1;
}

int vm_config_parse_disk(char *spec, struct vm_disk_config *disk, char *err, size_t errlen)
{
	char *save = NULL, *opt;
	int ret;

	memset(disk, 0, sizeof(*disk));
	disk->cache = DISK_CACHE_WRITEBACK;
	disk->path = strtok_r(spec, ",", &save);
	if (!disk->path || !*disk->path || spec[0] == ',') {
		snprintf(err, errlen, "--disk: expected PATH[,ro][,cache=none|writeback][,id=NAME]"
				      "[,bw=BYTES/MS[+BURST]][,ops=OPS/MS[+BURST]]");
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
		} else if ((ret = parse_rate_opt(opt, "", &disk->rate_limit, "--disk", err,
						  errlen)) <= 0) {
			if (ret)
				return ret;
		} else {
			snprintf(err, errlen,
				 "--disk %s: unknown option '%s' (ro, cache=none|writeback, id=NAME, "
				 "bw=BYTES/MS[+BURST], ops=OPS/MS[+BURST])",
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
	int ret;

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
		} else if (strncmp(opt, "id=", 3) == 0) {
			net->id = opt + 3;
			if (!*net->id || strlen(net->id) > VM_NET_IFACE_ID_MAX) {
				snprintf(err, errlen, "--net: id must be 1 to %d characters",
					 VM_NET_IFACE_ID_MAX);
				return -EINVAL;
			}
		} else if ((ret = parse_rate_opt(opt, "rx-", &net->rx_rate_limit, "--net", err,
						  errlen)) <= 0 ||
			   (ret = parse_rate_opt(opt, "tx-", &net->tx_rate_limit, "--net", err,
						  errlen)) <= 0) {
			if (ret)
				return ret;
		} else {
			snprintf(err, errlen,
				 "--net: unknown option '%s' (tap=NAME, mac=MAC, id=NAME, "
				 "rx-bw=, rx-ops=, tx-bw=, tx-ops=)",
				 opt);
			return -EINVAL;
		}
	}
	if (!net->tap) {
		snprintf(err, errlen, "--net: needs tap=NAME");
		return -EINVAL;
	}
	return 0;
}

int vm_config_parse_rng(char *spec, struct rate_limiter_config *rl, char *err, size_t errlen)
{
	char *save = NULL, *opt;
	int ret;

	memset(rl, 0, sizeof(*rl));
	for (opt = strtok_r(spec, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		ret = parse_rate_opt(opt, "", rl, "--rng", err, errlen);
		if (ret < 0)
			return ret;
		if (ret > 0) {
			snprintf(err, errlen,
				 "--rng: unknown option '%s' (bw=BYTES/MS[+BURST], ops=OPS/MS[+BURST])",
				 opt);
			return -EINVAL;
		}
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
