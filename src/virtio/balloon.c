// SPDX-License-Identifier: Apache-2.0
#include "virtio/balloon.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"

#define BALLOON_QUEUE_SIZE 256
#define STAT_ENTRY_BYTES 10 /* le16 tag, le64 val, packed */

struct virtio_balloon {
	struct vm_balloon_config cfg;
	struct virtio_balloon_stats st;
	bool stats_held; /* the guest's stats buffer, kept until the next request */
	uint16_t stats_head;
	int stats_fd; /* timerfd: ask for statistics (-1: none) */
	bool madvise_warned;
	uint32_t pfns[VIRTIO_BALLOON_MAX_PFNS];
	struct virtq_elem elem;
	struct metrics_group *mg; /* "balloon" */
	bool registered; /* the machine's balloon (env->set_balloon) */
};

#define BALLOON_FIELD(m) METRICS_FIELD(struct virtio_balloon_stats, m)
#define BALLOON_STAT(name, tag)                                                        \
	{ name, offsetof(struct virtio_balloon_stats, stats) + sizeof(uint64_t) * (tag) }

/* The device's counters, then the guest's latest statistics (bytes or counts). */
static const struct metrics_field balloon_metric_fields[] = {
	BALLOON_FIELD(inflated_pages),
	BALLOON_FIELD(inflate_reqs),
	BALLOON_FIELD(deflate_reqs),
	BALLOON_FIELD(bad_pfns),
	BALLOON_FIELD(dropped_pfns),
	BALLOON_FIELD(stats_updates),
	BALLOON_STAT("swap_in", VIRTIO_BALLOON_S_SWAP_IN),
	BALLOON_STAT("swap_out", VIRTIO_BALLOON_S_SWAP_OUT),
	BALLOON_STAT("major_faults", VIRTIO_BALLOON_S_MAJFLT),
	BALLOON_STAT("minor_faults", VIRTIO_BALLOON_S_MINFLT),
	BALLOON_STAT("free_memory", VIRTIO_BALLOON_S_MEMFREE),
	BALLOON_STAT("total_memory", VIRTIO_BALLOON_S_MEMTOT),
	BALLOON_STAT("available_memory", VIRTIO_BALLOON_S_AVAIL),
	BALLOON_STAT("disk_caches", VIRTIO_BALLOON_S_CACHES),
};

/* ---- parsing (no device state) ---- */

void virtio_balloon_parse_pfns(const struct guest_mem *mem, const struct virtq_elem *e,
			       virtio_balloon_range_fn fn, void *opaque,
			       struct virtio_balloon_pfns *res)
{
	uint32_t pfns[VIRTIO_BALLOON_MAX_PFNS];
	uint64_t total = e->out_len / sizeof(uint32_t), n, run_len = 0;
	uint8_t *run = NULL;

	memset(res, 0, sizeof(*res));
	n = total < VIRTIO_BALLOON_MAX_PFNS ? total : VIRTIO_BALLOON_MAX_PFNS;
	res->dropped = total - n;
	/* Copy first: the guest may balloon the page that holds its PFN array. */
	n = iov_to_buf(e->out, e->nout, 0, pfns, n * sizeof(uint32_t)) / sizeof(uint32_t);
	for (uint64_t i = 0; i < n; i++) {
		gpa_t gpa = (gpa_t)pfns[i] << VIRTIO_BALLOON_PFN_SHIFT;
		uint8_t *host = guest_mem_ptr(mem, gpa, VIRTIO_BALLOON_PAGE_SIZE);

		if (!host) {
			res->bad++;
			continue;
		}
		res->good++;
		/* Discarded pages read back as zeros: decoded code of them goes. */
		guest_mem_written(mem, gpa, VIRTIO_BALLOON_PAGE_SIZE);
		if (run && host == run + run_len) {
			run_len += VIRTIO_BALLOON_PAGE_SIZE;
			continue;
		}
		if (run) {
			res->ranges++;
			if (fn)
				fn(opaque, run, run_len);
		}
		run = host;
		run_len = VIRTIO_BALLOON_PAGE_SIZE;
	}
	if (run) {
		res->ranges++;
		if (fn)
			fn(opaque, run, run_len);
	}
}

unsigned virtio_balloon_parse_stats(const struct virtq_elem *e, struct virtio_balloon_stats *st)
{
	uint8_t buf[VIRTIO_BALLOON_MAX_STAT_ENTRIES * STAT_ENTRY_BYTES];
	uint64_t got = iov_to_buf(e->out, e->nout, 0, buf, sizeof(buf));
	unsigned used = 0;

	st->stats_valid = 0;
	for (uint64_t off = 0; off + STAT_ENTRY_BYTES <= got; off += STAT_ENTRY_BYTES) {
		uint16_t tag;
		uint64_t val;

		memcpy(&tag, buf + off, sizeof(tag));
		memcpy(&val, buf + off + 2, sizeof(val));
		if (tag >= VIRTIO_BALLOON_S_NR)
			continue; /* a tag from a newer spec: ignored */
		st->stats[tag] = val;
		st->stats_valid |= 1u << tag;
		used++;
	}
	return used;
}

/* ---- the device ---- */

static bool balloon_queue_live(struct virtio_dev *d, unsigned q)
{
	return (d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       d->qcfg[q].ready;
}

static void balloon_discard(void *opaque, void *host, uint64_t len)
{
	struct virtio_balloon *b = opaque;

	/* The pages read back as zeros if the guest touches them again. */
	if (madvise(host, len, MADV_DONTNEED) < 0 && !b->madvise_warned) {
		b->madvise_warned = true;
		log_warn("virtio-balloon", "madvise(MADV_DONTNEED) of %llu bytes",
			 (unsigned long long)len);
	}
}

static void balloon_pages(struct virtio_dev *d, unsigned q)
{
	struct virtio_balloon *b = d->priv;
	struct virtq *vq = &d->vqs[q];
	bool inflate = q == VIRTIO_BALLOON_Q_INFLATE;
	struct virtio_balloon_pfns res;
	int ret;

	for (;;) {
		ret = virtq_pop(vq, &b->elem);
		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, inflate ? "malformed inflate ring" :
								"malformed deflate ring");
			return;
		}
		d->requests++;
		virtio_balloon_parse_pfns(d->env->mem, &b->elem, inflate ? balloon_discard : NULL,
					  b, &res);
		/* Atomic updates: the metrics writer reads these without the lock. */
		if (inflate) {
			metrics_inc(&b->st.inflate_reqs);
			metrics_add(&b->st.inflated_pages, res.good);
		} else {
			metrics_inc(&b->st.deflate_reqs);
			metrics_set(&b->st.inflated_pages,
				    b->st.inflated_pages -
					    (res.good < b->st.inflated_pages ? res.good :
									       b->st.inflated_pages));
		}
		metrics_add(&b->st.bad_pfns, res.bad);
		metrics_add(&b->st.dropped_pfns, res.dropped);
		if (res.bad || res.dropped)
			d->errors++;
		virtq_push(vq, b->elem.head, 0);
	}
	virtio_dev_notify_used(d, q);
}

static void balloon_stats_arrived(struct virtio_dev *d)
{
	struct virtio_balloon *b = d->priv;
	struct virtq *vq = &d->vqs[VIRTIO_BALLOON_Q_STATS];
	bool pushed = false;
	int ret;

	for (;;) {
		ret = virtq_pop(vq, &b->elem);
		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			b->stats_held = false;
			virtio_dev_set_needs_reset(d, "malformed statistics ring");
			return;
		}
		d->requests++;
		/* The driver keeps one buffer here; an extra one returns the older. */
		if (b->stats_held) {
			virtq_push(vq, b->stats_head, 0);
			pushed = true;
		}
		virtio_balloon_parse_stats(&b->elem, &b->st);
		metrics_inc(&b->st.stats_updates);
		b->st.stats_ms = log_ms_since_start();
		b->stats_head = b->elem.head;
		b->stats_held = true;
	}
	if (pushed)
		virtio_dev_notify_used(d, VIRTIO_BALLOON_Q_STATS);
}

void virtio_balloon_request_stats(struct virtio_dev *d)
{
	struct virtio_balloon *b = d->priv;

	if (!b->stats_held || !balloon_queue_live(d, VIRTIO_BALLOON_Q_STATS))
		return;
	b->stats_held = false;
	if (virtq_push(&d->vqs[VIRTIO_BALLOON_Q_STATS], b->stats_head, 0) == 0)
		virtio_dev_notify_used(d, VIRTIO_BALLOON_Q_STATS);
}

static void balloon_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_BALLOON_Q_INFLATE || q == VIRTIO_BALLOON_Q_DEFLATE)
		balloon_pages(d, q);
	else if (q == VIRTIO_BALLOON_Q_STATS)
		balloon_stats_arrived(d);
}

static void balloon_activate(struct virtio_dev *d)
{
	/*
	 * Linux queues its first statistics buffer (and kicks) before
	 * DRIVER_OK, when kicks are ignored: look at every queue now. On the
	 * I/O thread when the kick goes through an eventfd.
	 */
	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		uint64_t one = 1;

		if (!d->qcfg[q].ready)
			continue;
		if (d->qcfg[q].notify_fd >= 0)
			(void)!write(d->qcfg[q].notify_fd, &one, sizeof(one));
		else
			balloon_queue_notify(d, q);
	}
}

static void balloon_reset(struct virtio_dev *d)
{
	struct virtio_balloon *b = d->priv;

	b->stats_held = false;
	b->st.actual_pages = 0;
}

/* I/O thread, without the lock: time to ask for statistics. */
static void balloon_on_timer(void *opaque, uint32_t events)
{
	struct virtio_dev *d = opaque;
	struct virtio_balloon *b = d->priv;
	uint64_t ticks;

	(void)events;
	if (read(b->stats_fd, &ticks, sizeof(ticks)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	virtio_balloon_request_stats(d);
	pthread_mutex_unlock(&d->lock);
}

static uint64_t balloon_features(struct virtio_dev *d)
{
	struct virtio_balloon *b = d->priv;
	uint64_t f = 0;

	if (b->cfg.stats_interval)
		f |= 1ULL << VIRTIO_BALLOON_F_STATS_VQ;
	if (b->cfg.deflate_on_oom)
		f |= 1ULL << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	return f;
}

/* num_pages, actual, free_page_hint_cmd_id, poison_val (the last two unused). */
static void balloon_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_balloon *b = d->priv;
	uint8_t cfg[16];

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg + 0, &b->st.target_pages, 4);
	memcpy(cfg + 4, &b->st.actual_pages, 4);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

static void balloon_config_write(struct virtio_dev *d, uint64_t off, const uint8_t *data,
				 unsigned len)
{
	struct virtio_balloon *b = d->priv;
	uint8_t actual[4];

	/* Only `actual` (bytes 4..7) is the driver's to write. */
	memcpy(actual, &b->st.actual_pages, 4);
	for (unsigned i = 0; i < len; i++)
		if (off + i >= 4 && off + i < 8)
			actual[off + i - 4] = data[i];
	memcpy(&b->st.actual_pages, actual, 4);
}

static void balloon_log_summary(const struct virtio_balloon *b)
{
	const struct virtio_balloon_stats *s = &b->st;

	log_info("virtio-balloon",
		 "target %u pages, guest reports %u, returned to the host %llu; %llu bad PFNs; %llu statistics updates, last: total %llu KiB, available %llu KiB",
		 s->target_pages, s->actual_pages, (unsigned long long)s->inflated_pages,
		 (unsigned long long)s->bad_pfns, (unsigned long long)s->stats_updates,
		 (unsigned long long)(s->stats[VIRTIO_BALLOON_S_MEMTOT] >> 10),
		 (unsigned long long)(s->stats[VIRTIO_BALLOON_S_AVAIL] >> 10));
}

static void balloon_destroy(struct virtio_dev *d)
{
	struct virtio_balloon *b = d->priv;

	if (!b)
		return;
	if (b->registered) {
		balloon_log_summary(b);
		d->env->set_balloon(d->env->machine, NULL, NULL);
	}
	metrics_unregister(b->mg);
	if (b->stats_fd >= 0)
		close(b->stats_fd);
	free(b);
}

const struct virtio_dev_ops virtio_balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.nqueues = 3,
	.queue_max = BALLOON_QUEUE_SIZE,
	.features = balloon_features,
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.queue_notify = balloon_queue_notify,
	.activate = balloon_activate,
	.reset = balloon_reset,
	.destroy = balloon_destroy,
};

void *virtio_balloon_alloc(const struct vm_balloon_config *cfg)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg = *cfg;
	b->st.target_pages = (uint32_t)(cfg->target >> VIRTIO_BALLOON_PFN_SHIFT);
	b->stats_fd = -1;
	b->mg = metrics_register("balloon", balloon_metric_fields,
				 sizeof(balloon_metric_fields) / sizeof(balloon_metric_fields[0]),
				 &b->st);
	if (!b->mg)
		log_warnx("virtio-balloon", "no metrics group");
	return b;
}

/* ---- runtime control ---- */

int virtio_balloon_set_target(struct virtio_dev *d, uint64_t bytes)
{
	struct virtio_balloon *b;
	uint32_t pages;

	if (!d)
		return -ENODEV;
	if (bytes > d->env->mem->ram_size || bytes >> VIRTIO_BALLOON_PFN_SHIFT > UINT32_MAX)
		return -EINVAL;
	pages = (uint32_t)(bytes >> VIRTIO_BALLOON_PFN_SHIFT);
	b = d->priv;
	pthread_mutex_lock(&d->lock);
	if (b->st.target_pages != pages) {
		b->st.target_pages = pages;
		if (d->status & VIRTIO_STATUS_DRIVER_OK)
			virtio_dev_config_changed(d);
		else
			d->config_generation++;
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int virtio_balloon_get_stats(struct virtio_dev *d, struct virtio_balloon_stats *out)
{
	struct virtio_balloon *b;

	if (!d)
		return -ENODEV;
	b = d->priv;
	pthread_mutex_lock(&d->lock);
	*out = b->st;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* Ctrl-A b: the balloon's state on stderr (the terminal is in raw mode). */
static void balloon_report(struct virtio_dev *d)
{
	static const struct {
		unsigned tag;
		const char *name;
	} shown[] = {
		{ VIRTIO_BALLOON_S_MEMTOT, "total" },	{ VIRTIO_BALLOON_S_MEMFREE, "free" },
		{ VIRTIO_BALLOON_S_AVAIL, "available" }, { VIRTIO_BALLOON_S_CACHES, "caches" },
		{ VIRTIO_BALLOON_S_SWAP_IN, "swap-in" }, { VIRTIO_BALLOON_S_SWAP_OUT, "swap-out" },
	};
	const struct virtio_balloon *b;
	struct virtio_balloon_stats s;
	char line[512];
	int n;

	if (virtio_balloon_get_stats(d, &s))
		return;
	b = d->priv;
	n = snprintf(line, sizeof(line),
		     "\r\nosprey: balloon: target %.1f MiB (%u pages), guest holds %.1f MiB (%u), "
		     "returned to host %.1f MiB, %llu bad PFNs\r\n",
		     mib((uint64_t)s.target_pages << 12), s.target_pages,
		     mib((uint64_t)s.actual_pages << 12), s.actual_pages,
		     mib(s.inflated_pages << 12), (unsigned long long)s.bad_pfns);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(STDERR_FILENO, line, (size_t)n);
	if (!s.stats_updates) {
		n = snprintf(line, sizeof(line), "osprey: balloon: no guest statistics yet%s\r\n",
			     b->cfg.stats_interval ? "" : " (--balloon stats=SECONDS)");
	} else {
		n = snprintf(line, sizeof(line), "osprey: balloon: guest statistics %.1f s old:",
			     (log_ms_since_start() - s.stats_ms) / 1000.0);
		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
			if (!(s.stats_valid & (1u << shown[i].tag)) || n < 0 ||
			    (size_t)n >= sizeof(line))
				continue;
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %.1f MiB",
				      shown[i].name, mib(s.stats[shown[i].tag]));
		}
		if (n > 0 && (size_t)n < sizeof(line) - 2)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "\r\n");
	}
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* ---- snapshots ---- */

static int balloon_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_balloon *b = d->priv;
	const struct virtio_balloon_stats *s = &b->st;
	double age;

	pthread_mutex_lock(&d->lock);
	age = log_ms_since_start() - s->stats_ms;
	virtio_mmio_state_save(d, w);
	state_put_u32(w, s->target_pages);
	state_put_u32(w, s->actual_pages);
	state_put_u64(w, s->inflated_pages);
	state_put_u64(w, s->inflate_reqs);
	state_put_u64(w, s->deflate_reqs);
	state_put_u64(w, s->bad_pfns);
	state_put_u64(w, s->dropped_pfns);
	state_put_u32(w, s->stats_valid);
	for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
		state_put_u64(w, s->stats[i]);
	state_put_u64(w, s->stats_updates);
	state_put_u64(w, s->stats_updates && age > 0 ? (uint64_t)age : 0);
	state_put_bool(w, b->stats_held);
	state_put_u16(w, b->stats_held ? b->stats_head : 0);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int balloon_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_balloon *b = d->priv;
	struct virtio_mmio_state st;
	struct virtio_balloon_stats s = b->st;
	uint64_t age;
	const struct virtq *sq;
	uint16_t head;
	bool held;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, r, &st);
	/* Counters and the guest's own figures: any value is harmless. */
	s.target_pages = state_get_u32(r);
	s.actual_pages = state_get_u32(r);
	s.inflated_pages = state_get_u64(r);
	s.inflate_reqs = state_get_u64(r);
	s.deflate_reqs = state_get_u64(r);
	s.bad_pfns = state_get_u64(r);
	s.dropped_pfns = state_get_u64(r);
	s.stats_valid = state_get_u32_max(r, (1u << VIRTIO_BALLOON_S_NR) - 1,
					  "virtio-balloon statistics tags");
	for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
		s.stats[i] = state_get_u64(r);
	s.stats_updates = state_get_u64(r);
	age = state_get_u64_max(r, 1ULL << 40, "virtio-balloon statistics age");
	held = state_get_bool(r);
	head = state_get_u16(r);
	virtio_mmio_state_check_held(r, &st, "virtio-balloon", VIRTIO_BALLOON_Q_INFLATE, 0);
	virtio_mmio_state_check_held(r, &st, "virtio-balloon", VIRTIO_BALLOON_Q_DEFLATE, 0);
	sq = &st.vqs[VIRTIO_BALLOON_Q_STATS];
	/* A held buffer is a chain in flight on a live statistics queue. */
	if (!state_reader_error(r) && held &&
	    (!st.qcfg[VIRTIO_BALLOON_Q_STATS].ready || head >= sq->size || !virtq_in_flight(sq)))
		state_fail(r, "virtio-balloon: held statistics buffer %u not in flight", head);
	if (!state_reader_error(r) && !held && head)
		state_fail(r, "virtio-balloon: statistics head %u without a held buffer", head);
	virtio_mmio_state_check_held(r, &st, "virtio-balloon", VIRTIO_BALLOON_Q_STATS, held);
	ret = virtio_mmio_state_finish(r, "virtio-balloon state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		s.stats_ms = log_ms_since_start() - (double)age;
		b->st = s;
		b->stats_held = held;
		b->stats_head = head;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void balloon_state_resumed(void *opaque)
{
	virtio_mmio_state_resumed(opaque);
}

const struct device_state_ops virtio_balloon_state_ops = {
	.version = VIRTIO_BALLOON_STATE_VERSION,
	.save = balloon_state_save,
	.load = balloon_state_load,
	.resumed = balloon_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

static int virtio_balloon_create(const struct device_env *env)
{
	const struct vm_balloon_config *cfg = env->cfg.balloon;
	struct virtio_balloon *b;
	struct virtio_dev *d;
	int ret;

	if (!cfg->enabled)
		return 0;
	b = virtio_balloon_alloc(cfg);
	if (!b)
		return -ENOMEM;
	if (cfg->stats_interval) {
		b->stats_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (b->stats_fd < 0) {
			ret = -errno;
			log_err("virtio-balloon", "timerfd_create");
			free(b);
			return ret;
		}
	}
	ret = virtio_mmio_create(env, &virtio_balloon_ops, b, &d);
	if (ret)
		return ret; /* destroy ran */
	ret = virtio_mmio_register_state(d, "virtio-balloon", &virtio_balloon_state_ops);
	if (ret)
		return ret; /* the device goes with the VM's cleanups */
	if (env->set_balloon) {
		env->set_balloon(env->machine, d, balloon_report);
		b->registered = true;
	}
	if (b->stats_fd >= 0) {
		struct itimerspec its = {
			.it_interval = { .tv_sec = cfg->stats_interval },
			.it_value = { .tv_sec = cfg->stats_interval },
		};

		ret = virtio_dev_add_fd(d, b->stats_fd, EPOLLIN, balloon_on_timer, d);
		if (!ret && timerfd_settime(b->stats_fd, 0, &its, NULL) < 0)
			ret = -errno;
		if (ret) {
			log_errx("virtio-balloon", "cannot start the statistics timer");
			return ret; /* the device goes with the VM's cleanups */
		}
	}
	log_info("virtio-balloon", "target %llu MiB%s, statistics %s",
		 (unsigned long long)(cfg->target >> 20),
		 cfg->deflate_on_oom ? ", deflate on OOM" : "",
		 cfg->stats_interval ? "on" : "off");
	return 0;
}

static const struct device_desc virtio_balloon_device = {
	.name = "virtio-balloon",
	.create = virtio_balloon_create,
};
DEVICE_REGISTER(virtio_balloon_device);
