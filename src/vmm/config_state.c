// SPDX-License-Identifier: Apache-2.0
/*
 * The machine configuration as section "config" of a machine state
 * (vmm/vm_state.h): every field of struct vm_config, so that a restore
 * or a migration destination builds the same machine. On read every
 * count, enum and string is checked, strings are copied out of the
 * stream, and the result must pass vm_config_validate().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vm_state.h"

#define VM_CONFIG_STATE_VERSION 1
/* Longest path or name string the section may carry. */
#define CONFIG_STR_MAX 4096

static void put_bucket(struct state_writer *w, const struct rate_bucket_config *b)
{
	state_put_u64(w, b->size);
	state_put_u64(w, b->one_time_burst);
	state_put_u64(w, b->refill_time_ms);
}

static void put_limiter(struct state_writer *w, const struct rate_limiter_config *rl)
{
	put_bucket(w, &rl->bandwidth);
	put_bucket(w, &rl->ops);
}

void vm_config_write(struct state_writer *w, const struct vm_config *cfg)
{
	state_section_begin(w, "config", VM_CONFIG_STATE_VERSION);
	state_put_str(w, cfg->kernel_path);
	state_put_str(w, cfg->initrd_path);
	state_put_str(w, cfg->cmdline);
	state_put_bool(w, cfg->no_default_cmdline);
	state_put_bool(w, cfg->keep_template_cmdline);
	state_put_u64(w, cfg->mem_size);
	state_put_u32(w, cfg->ncpus);
	state_put_str(w, cfg->cpu_template);
	state_put_str(w, cfg->accel);
	state_put_u32(w, (uint32_t)cfg->console);
	state_put_str(w, cfg->console_path);
	state_put_u32(w, (uint32_t)cfg->on_reboot);
	state_put_bool(w, cfg->rng);
	put_limiter(w, &cfg->rng_rate_limit);

	state_put_u32(w, cfg->ndisks);
	for (unsigned i = 0; i < cfg->ndisks && i < VM_MAX_DISKS; i++) {
		const struct vm_disk_config *d = &cfg->disks[i];

		state_put_str(w, d->path);
		state_put_bool(w, d->read_only);
		state_put_u32(w, (uint32_t)d->cache);
		state_put_str(w, d->id);
		put_limiter(w, &d->rate_limit);
	}
	state_put_u32(w, cfg->nnets);
	for (unsigned i = 0; i < cfg->nnets && i < VM_MAX_NETS; i++) {
		const struct vm_net_config *n = &cfg->nets[i];

		state_put_str(w, n->tap);
		state_put_bytes(w, n->mac, sizeof(n->mac));
		state_put_bool(w, n->has_mac);
		state_put_str(w, n->id);
		put_limiter(w, &n->rx_rate_limit);
		put_limiter(w, &n->tx_rate_limit);
	}
	state_put_bool(w, cfg->vsock.enabled);
	state_put_u32(w, cfg->vsock.cid);
	state_put_str(w, cfg->vsock.uds);
	state_put_bool(w, cfg->console_virtio);
	state_put_bool(w, cfg->balloon.enabled);
	state_put_u64(w, cfg->balloon.target);
	state_put_bool(w, cfg->balloon.deflate_on_oom);
	state_put_u32(w, cfg->balloon.stats_interval);
	state_put_bool(w, cfg->track_dirty_pages);
	state_section_end(w);
}

/* A string (NULL for the NULL marker), malloc'ed; NULL and r failed on errors. */
static char *get_str(struct state_reader *r, size_t cap, char *buf)
{
	char *s;

	if (!state_get_str(r, buf, cap))
		return NULL;
	s = strdup(buf);
	if (!s)
		state_fail(r, "out of memory");
	return s;
}

static void get_bucket(struct state_reader *r, struct rate_bucket_config *b)
{
	b->size = state_get_u64(r);
	b->one_time_burst = state_get_u64(r);
	b->refill_time_ms = state_get_u64(r);
}

static void get_limiter(struct state_reader *r, struct rate_limiter_config *rl)
{
	get_bucket(r, &rl->bandwidth);
	get_bucket(r, &rl->ops);
}

/* The config's strings are const for its users; these came from strdup. */
static void free_str(const char *s)
{
	free((void *)(uintptr_t)s);
}

void vm_config_free_strings(struct vm_config *cfg)
{
	free_str(cfg->kernel_path);
	free_str(cfg->initrd_path);
	free_str(cfg->cmdline);
	free_str(cfg->cpu_template);
	free_str(cfg->accel);
	free_str(cfg->console_path);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		free_str(cfg->disks[i].path);
		free_str(cfg->disks[i].id);
		cfg->disks[i].path = cfg->disks[i].id = NULL;
	}
	for (unsigned i = 0; i < VM_MAX_NETS; i++) {
		free_str(cfg->nets[i].tap);
		free_str(cfg->nets[i].id);
		cfg->nets[i].tap = cfg->nets[i].id = NULL;
	}
	free_str(cfg->vsock.uds);
	cfg->kernel_path = cfg->initrd_path = cfg->cmdline = NULL;
	cfg->cpu_template = cfg->accel = cfg->console_path = cfg->vsock.uds = NULL;
}

static void read_fields(struct state_reader *r, struct vm_config *cfg, char *buf)
{
	uint32_t n;

	cfg->kernel_path = get_str(r, CONFIG_STR_MAX, buf);
	cfg->initrd_path = get_str(r, CONFIG_STR_MAX, buf);
	cfg->cmdline = get_str(r, VM_CMDLINE_MAX, buf);
	cfg->no_default_cmdline = state_get_bool(r);
	cfg->keep_template_cmdline = state_get_bool(r);
	cfg->mem_size = state_get_u64(r);
	cfg->ncpus = state_get_u32(r);
	cfg->cpu_template = get_str(r, CONFIG_STR_MAX, buf);
	cfg->accel = get_str(r, CONFIG_STR_MAX, buf);
	cfg->console = (enum console_mode)state_get_u32_max(r, CONSOLE_NONE, "console mode");
	cfg->console_path = get_str(r, CONFIG_STR_MAX, buf);
	cfg->on_reboot = (enum reboot_action)state_get_u32_max(r, REBOOT_RESTART, "reboot action");
	cfg->rng = state_get_bool(r);
	get_limiter(r, &cfg->rng_rate_limit);

	n = state_get_u32_max(r, VM_MAX_DISKS, "disk count");
	for (unsigned i = 0; i < n && !state_reader_error(r); i++) {
		struct vm_disk_config *d = &cfg->disks[i];

		d->path = get_str(r, CONFIG_STR_MAX, buf);
		d->read_only = state_get_bool(r);
		d->cache = (enum disk_cache)state_get_u32_max(r, DISK_CACHE_NONE, "disk cache mode");
		d->id = get_str(r, VM_DISK_ID_MAX + 1, buf);
		get_limiter(r, &d->rate_limit);
		cfg->ndisks = i + 1;
	}
	n = state_get_u32_max(r, VM_MAX_NETS, "network interface count");
	for (unsigned i = 0; i < n && !state_reader_error(r); i++) {
		struct vm_net_config *nc = &cfg->nets[i];

		nc->tap = get_str(r, CONFIG_STR_MAX, buf);
		state_get_bytes(r, nc->mac, sizeof(nc->mac));
		nc->has_mac = state_get_bool(r);
		nc->id = get_str(r, VM_NET_IFACE_ID_MAX + 1, buf);
		get_limiter(r, &nc->rx_rate_limit);
		get_limiter(r, &nc->tx_rate_limit);
		cfg->nnets = i + 1;
	}
	cfg->vsock.enabled = state_get_bool(r);
	cfg->vsock.cid = state_get_u32(r);
	cfg->vsock.uds = get_str(r, CONFIG_STR_MAX, buf);
	cfg->console_virtio = state_get_bool(r);
	cfg->balloon.enabled = state_get_bool(r);
	cfg->balloon.target = state_get_u64(r);
	cfg->balloon.deflate_on_oom = state_get_bool(r);
	cfg->balloon.stats_interval =
		state_get_u32_max(r, VM_BALLOON_STATS_MAX, "balloon statistics interval");
	cfg->track_dirty_pages = state_get_bool(r);
}

/* What read_fields cannot see field by field. */
static void check_fields(struct state_reader *r, const struct vm_config *cfg)
{
	char err[STATE_ERR_MAX];

	if (state_reader_error(r))
		return;
	if (!cfg->cpu_template || !cfg->accel) {
		state_fail(r, "config: no CPU template or accelerator");
		return;
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (!cfg->nets[i].tap) {
			state_fail(r, "config: network interface %u without a tap device", i);
			return;
		}
	}
	if (cfg->vsock.enabled && (!cfg->vsock.uds || cfg->vsock.cid < 3)) {
		state_fail(r, "config: vsock without a socket path or with CID %u", cfg->vsock.cid);
		return;
	}
	if (vm_config_validate(cfg, 0, err, sizeof(err)))
		state_fail(r, "config: %s", err);
}

int vm_config_read(struct state_reader *r, struct vm_config *cfg)
{
	struct state_reader sub;
	uint32_t version;
	char *buf;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	if (state_reader_error(r))
		return -EBADMSG;
	ret = state_find_section(r, "config", &version, &sub);
	if (ret == -ENOENT) {
		state_fail(r, "no machine configuration (section config)");
		return -EBADMSG;
	}
	if (ret) {
		state_fail(r, "malformed state looking for section config");
		return -EBADMSG;
	}
	if (version != VM_CONFIG_STATE_VERSION) {
		state_fail(r, "config is version %u, this osprey reads version %u", version,
			   VM_CONFIG_STATE_VERSION);
		return -EBADMSG;
	}
	buf = malloc(CONFIG_STR_MAX);
	if (!buf) {
		state_fail(r, "out of memory");
		return -EBADMSG;
	}
	read_fields(&sub, cfg, buf);
	free(buf);
	if (!state_reader_error(&sub))
		state_reader_finish(&sub, "config");
	check_fields(&sub, cfg);
	if (state_reader_error(&sub)) {
		state_fail(r, "%s%s", strncmp(state_reader_msg(&sub), "config", 6) ? "config: " : "",
			   state_reader_msg(&sub));
		vm_config_free_strings(cfg);
		memset(cfg, 0, sizeof(*cfg));
		return -EBADMSG;
	}
	return 0;
}
