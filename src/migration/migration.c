// SPDX-License-Identifier: Apache-2.0
/*
 * Live migration (migration.h, docs/migration.md): the source's pre-copy
 * thread and the destination's receive.
 */
#include "migration/migration.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/state.h"
#include "migration/net.h"
#include "migration/stream.h"
#include "vmm/dirty.h"
#include "vmm/vm.h"
#include "vmm/vm_state.h"

#define MIG_IO_TIMEOUT_MS 10000
#define MIG_READY_TIMEOUT_MS 10000
#define MIG_RECV_TIMEOUT_MS 30000
#define MIG_DEFAULT_DOWNTIME_MS 20
#define MIG_DEFAULT_ROUNDS 30
/* Bytes a page costs on the wire (offset + page; the record header is amortised). */
#define MIG_PAGE_WIRE (8u + MIG_PAGE_SIZE)

struct migration_ctl {
	struct vm *vm;
	pthread_mutex_t lock; /* st, fd, active */
	pthread_t thread;
	bool joinable;
	bool active;
	volatile int cancel;
	int fd;
	struct migration_status st;
	struct migration_params p;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- source ---- */

struct src_run {
	struct migration_ctl *c;
	struct vm *vm;
	int fd;
	uint8_t *batch;
	uint32_t nbatch;
	uint64_t pages, bytes;
	uint64_t t_start, send_ns; /* time spent sending pages, for the rate */
	char err[192];
};

static void publish(struct src_run *s, unsigned rounds)
{
	pthread_mutex_lock(&s->c->lock);
	s->c->st.rounds = rounds;
	s->c->st.pages_sent = s->pages;
	s->c->st.bytes_sent = s->bytes;
	s->c->st.total_ms = (now_ns() - s->t_start) / 1000000;
	pthread_mutex_unlock(&s->c->lock);
}

static int send_rec(struct src_run *s, uint32_t type, const void *p, size_t len)
{
	int ret = mig_send_record(s->fd, type, p, len, MIG_IO_TIMEOUT_MS, &s->c->cancel);

	if (ret == -ECANCELED)
		snprintf(s->err, sizeof(s->err), "cancelled");
	else if (ret == -ECONNRESET || ret == -EPIPE)
		snprintf(s->err, sizeof(s->err), "connection to the destination lost");
	else if (ret)
		snprintf(s->err, sizeof(s->err), "sending %s: %s", mig_rec_name(type),
			 strerror(-ret));
	else
		s->bytes += MIG_HDR_LEN + 8 + len;
	return ret;
}

/* The bandwidth limit: sleeps until the bytes sent so far fit the rate. */
static void throttle(struct src_run *s)
{
	uint64_t bw = s->c->p.bandwidth_bytes_per_s, due, el;

	if (!bw)
		return;
	due = (uint64_t)((double)s->bytes * 1e9 / (double)bw);
	el = now_ns() - s->t_start;
	while (due > el && !s->c->cancel) {
		uint64_t d = due - el;
		struct timespec ts;

		if (d > 100000000ULL)
			d = 100000000ULL;
		ts.tv_sec = (time_t)(d / 1000000000ULL);
		ts.tv_nsec = (long)(d % 1000000000ULL);
		nanosleep(&ts, NULL);
		el = now_ns() - s->t_start;
	}
}

static int flush_batch(struct src_run *s)
{
	uint64_t t0;
	int ret;

	if (!s->nbatch)
		return 0;
	mig_put_u32(s->batch, s->nbatch);
	t0 = now_ns();
	ret = send_rec(s, MIG_REC_PAGES, s->batch, 4 + (size_t)s->nbatch * MIG_PAGE_WIRE);
	s->send_ns += now_ns() - t0;
	if (!ret)
		s->pages += s->nbatch;
	s->nbatch = 0;
	if (!ret)
		throttle(s);
	return ret;
}

static int add_page(struct src_run *s, uint64_t off)
{
	uint8_t *e = s->batch + 4 + (size_t)s->nbatch * MIG_PAGE_WIRE;

	mig_put_u64(e, off);
	memcpy(e + 8, s->vm->mem.mapping + off, MIG_PAGE_SIZE);
	if (++s->nbatch == MIG_PAGES_MAX)
		return flush_batch(s);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;

	for (unsigned i = 0; i < MIG_PAGE_SIZE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/*
 * Round 0 sends every page that is not zero (the destination's RAM
 * starts zero). Pages of anonymous RAM that were never touched are zero
 * and not mapped: /proc/self/pagemap (neither present nor swapped) tells
 * them without faulting each one in, which costs far more than the scan.
 * File-backed RAM (a restored snapshot) has its data in unmapped pages,
 * so there every page is read.
 */
#define PAGEMAP_CHUNK 512

static int send_all_pages(struct src_run *s)
{
	const uint8_t *base = s->vm->mem.mapping;
	uint64_t size = s->vm->mem.mapping_size, map[PAGEMAP_CHUNK];
	int pm = -1, ret;

	if (!s->vm->mem.file_backed)
		pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (uint64_t off = 0; off + MIG_PAGE_SIZE <= size;) {
		uint64_t n = (size - off) / MIG_PAGE_SIZE;
		bool have_map = false;

		if (n > PAGEMAP_CHUNK)
			n = PAGEMAP_CHUNK;
		if (pm >= 0) {
			off_t at = (off_t)(((uintptr_t)(base + off) / MIG_PAGE_SIZE) * 8);

			have_map = pread(pm, map, n * 8, at) == (ssize_t)(n * 8);
		}
		for (uint64_t i = 0; i < n; i++, off += MIG_PAGE_SIZE) {
			if (have_map && !(map[i] & (3ULL << 62)))
				continue; /* never touched: zero */
			if (page_is_zero(base + off))
				continue;
			ret = add_page(s, off);
			if (ret) {
				if (pm >= 0)
					close(pm);
				return ret;
			}
		}
	}
	if (pm >= 0)
		close(pm);
	return flush_batch(s);
}

static int send_dirty_pages(struct src_run *s, const uint64_t *bits, size_t nwords)
{
	uint64_t size = s->vm->mem.mapping_size;
	int ret;

	for (size_t w = 0; w < nwords; w++) {
		uint64_t m = bits[w];

		while (m) {
			unsigned b = (unsigned)__builtin_ctzll(m);
			uint64_t off = ((uint64_t)w * 64 + b) * MIG_PAGE_SIZE;

			m &= m - 1;
			if (off + MIG_PAGE_SIZE > size)
				continue;
			ret = add_page(s, off);
			if (ret)
				return ret;
		}
	}
	return flush_batch(s);
}

static int wait_ready(struct src_run *s)
{
	struct mig_reader r;
	struct mig_rec rec;
	char e[160];
	int ret;

	mig_reader_init_fd(&r, s->fd, MIG_READY_TIMEOUT_MS);
	r.cancel = &s->c->cancel;
	ret = mig_read_record(&r, &rec, e, sizeof(e));
	if (ret) {
		snprintf(s->err, sizeof(s->err), "waiting for the destination: %s", e);
	} else if (rec.type == MIG_REC_ERROR) {
		snprintf(s->err, sizeof(s->err), "the destination failed: %.*s",
			 (int)(rec.len > 150 ? 150 : rec.len), (const char *)rec.payload);
		ret = -EPROTO;
	} else if (rec.type != MIG_REC_READY) {
		snprintf(s->err, sizeof(s->err), "the destination sent %s instead of READY",
			 mig_rec_name(rec.type));
		ret = -EPROTO;
	}
	mig_reader_free(&r);
	return ret;
}

static void finish(struct migration_ctl *c, enum migration_phase ph, const char *err)
{
	pthread_mutex_lock(&c->lock);
	c->st.phase = ph;
	if (err)
		snprintf(c->st.error, sizeof(c->st.error), "%s", err);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->active = false;
	pthread_mutex_unlock(&c->lock);
}

static void *source_thread(void *arg)
{
	struct migration_ctl *c = arg;
	struct vm *vm = c->vm;
	struct src_run s = { .c = c, .vm = vm, .fd = -1 };
	size_t nwords = vm_dirty_words(vm);
	uint64_t *bits = NULL, *taken = NULL, npages, t_pause = 0;
	uint64_t target_ms = c->p.downtime_target_ms ? c->p.downtime_target_ms :
						       MIG_DEFAULT_DOWNTIME_MS;
	unsigned max_rounds = c->p.max_rounds ? c->p.max_rounds : MIG_DEFAULT_ROUNDS, rounds = 0;
	bool was_logging = vm->dirty_logging, started_log = false, paused = false;
	bool quiesced = false, run_ended = false, collected = false;
	struct state_writer w;
	uint8_t hello[MIG_HELLO_MAX];
	struct mig_hello h = { .magic = MIG_MAGIC,
			       .version = MIG_PROTO_VERSION,
			       .page_size = MIG_PAGE_SIZE,
			       .ram_size = vm->mem.ram_size };
	int ret, fd;

	pthread_setname_np(pthread_self(), "migration");
	s.t_start = now_ns();
	state_writer_init(&w);
	s.batch = malloc(MIG_PAGES_LEN_MAX);
	bits = calloc(nwords ? nwords : 1, sizeof(*bits));
	taken = calloc(nwords ? nwords : 1, sizeof(*taken));
	if (!s.batch || !bits || !taken) {
		snprintf(s.err, sizeof(s.err), "out of memory");
		goto fail;
	}
	fd = mig_connect(c->p.uri, s.err, sizeof(s.err));
	if (fd < 0)
		goto fail;
	pthread_mutex_lock(&c->lock);
	c->fd = s.fd = fd;
	pthread_mutex_unlock(&c->lock);
	if (c->cancel) {
		snprintf(s.err, sizeof(s.err), "cancelled");
		goto fail;
	}

	snprintf(h.cpu_template, sizeof(h.cpu_template), "%s", vm->tmpl ? vm->tmpl->name : "");
	if (send_rec(&s, MIG_REC_HELLO, hello, mig_hello_encode(&h, hello, sizeof(hello))))
		goto fail;
	vm_config_write(&w, vm->cfg);
	if (state_writer_finish(&w)) {
		snprintf(s.err, sizeof(s.err), "cannot encode the configuration");
		goto fail;
	}
	if (send_rec(&s, MIG_REC_CONFIG, w.buf, w.len))
		goto fail;
	state_writer_free(&w);
	state_writer_init(&w);

	if (!was_logging) {
		/* The backend starts logging with every vCPU parked. */
		ret = vm_pause(vm);
		if (ret) {
			run_ended = ret == -ESRCH;
			snprintf(s.err, sizeof(s.err), "cannot pause the machine: %s",
				 run_ended ? "it has stopped" : strerror(-ret));
			goto fail;
		}
		ret = vm_dirty_log_start(vm, s.err, sizeof(s.err));
		(void)vm_resume(vm);
		if (ret)
			goto fail;
		started_log = true;
	}
	/* Round 0: all of RAM while the guest runs. */
	if (send_all_pages(&s))
		goto fail;
	publish(&s, 0);

	for (;;) {
		double rate; /* bytes per ms */
		uint64_t cost_ms;

		ret = vm_pause(vm);
		if (ret) {
			run_ended = ret == -ESRCH;
			snprintf(s.err, sizeof(s.err), "cannot pause the machine: %s",
				 run_ended ? "it has stopped" : strerror(-ret));
			goto fail;
		}
		paused = true;
		t_pause = now_ns();
		ret = vm_dirty_collect(vm, bits, nwords, &npages, s.err, sizeof(s.err));
		if (ret)
			goto fail;
		collected = true;
		for (size_t i = 0; i < nwords; i++)
			taken[i] |= bits[i];
		rate = s.send_ns ? (double)s.bytes * 1e6 / (double)s.send_ns : 1e9;
		if (c->p.bandwidth_bytes_per_s && rate > (double)c->p.bandwidth_bytes_per_s / 1e3)
			rate = (double)c->p.bandwidth_bytes_per_s / 1e3;
		cost_ms = (uint64_t)((double)(npages * MIG_PAGE_WIRE) / (rate > 1 ? rate : 1));
		if (cost_ms <= target_ms || rounds >= max_rounds)
			break; /* stop and copy, still paused */
		ret = vm_resume(vm);
		if (ret) {
			run_ended = ret == -ESRCH;
			snprintf(s.err, sizeof(s.err), "cannot resume the machine: %s",
				 strerror(-ret));
			goto fail;
		}
		paused = false;
		rounds++;
		if (send_dirty_pages(&s, bits, nwords))
			goto fail;
		publish(&s, rounds);
		log_info("migration", "round %u: %llu pages", rounds, (unsigned long long)npages);
	}

	/* Stop and copy: devices stop too, then what they wrote since. */
	vm_state_quiesce(vm, true);
	quiesced = true;
	if (send_dirty_pages(&s, bits, nwords))
		goto fail;
	ret = vm_dirty_collect(vm, bits, nwords, &npages, s.err, sizeof(s.err));
	if (ret)
		goto fail;
	for (size_t i = 0; i < nwords; i++)
		taken[i] |= bits[i];
	if (send_dirty_pages(&s, bits, nwords))
		goto fail;
	ret = vm_state_save(vm, &w, s.err, sizeof(s.err));
	if (!ret)
		ret = state_writer_finish(&w);
	if (ret) {
		if (!s.err[0])
			snprintf(s.err, sizeof(s.err), "cannot save the machine state");
		goto fail;
	}
	if (w.len > MIG_STATE_MAX) {
		snprintf(s.err, sizeof(s.err), "machine state of %zu bytes is too large", w.len);
		goto fail;
	}
	if (send_rec(&s, MIG_REC_STATE, w.buf, w.len) || send_rec(&s, MIG_REC_DONE, NULL, 0))
		goto fail;
	if (wait_ready(&s))
		goto fail;

	/* The destination has the machine: this one ends here. */
	pthread_mutex_lock(&c->lock);
	c->st.downtime_ms = (now_ns() - t_pause) / 1000000;
	pthread_mutex_unlock(&c->lock);
	publish(&s, rounds);
	log_info("migration", "migrated to %s: %u rounds, %llu pages, %llu ms, downtime %llu ms",
		 c->p.uri, rounds, (unsigned long long)s.pages,
		 (unsigned long long)c->st.total_ms, (unsigned long long)c->st.downtime_ms);
	vm_request_exit(vm, 0);
	if (mig_send_record(s.fd, MIG_REC_GO, NULL, 0, MIG_IO_TIMEOUT_MS, NULL))
		log_warnx("migration", "GO not delivered: the destination may not run the machine");
	finish(c, MIGRATION_COMPLETED, NULL);
	goto out;

fail:
	if (s.fd >= 0 && !c->cancel)
		mig_send_error(s.fd, s.err);
	if (!run_ended) {
		/* Leave the source as it was: logging, devices, running. */
		if (started_log && !paused && vm_pause(vm) == 0)
			paused = true;
		if (started_log && paused)
			vm_dirty_log_stop(vm);
		else if (was_logging && collected)
			vm_dirty_putback(vm, taken, nwords);
		if (quiesced)
			vm_state_quiesce(vm, false);
		if (paused)
			(void)vm_resume(vm);
	}
	publish(&s, rounds);
	log_warnx("migration", "migration to %s failed: %s (the machine keeps running here)",
		  c->p.uri, s.err);
	finish(c, c->cancel ? MIGRATION_CANCELLED : MIGRATION_FAILED, s.err);
out:
	state_writer_free(&w);
	free(s.batch);
	free(bits);
	free(taken);
	return NULL;
}

static void ctl_cleanup(void *opaque)
{
	struct migration_ctl *c = opaque;

	pthread_mutex_lock(&c->lock);
	c->cancel = 1;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->lock);
	if (c->joinable)
		pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->lock);
	if (c->vm && c->vm->migration == c)
		c->vm->migration = NULL;
	free(c);
}

int migration_start(struct vm *vm, const struct migration_params *p, char *err, size_t errlen)
{
	struct migration_ctl *c = vm->migration;
	int ret;

	if (!memchr(p->uri, 0, sizeof(p->uri)) || mig_uri_check(p->uri, err, errlen)) {
		if (!memchr(p->uri, 0, sizeof(p->uri)))
			snprintf(err, errlen, "migration URI too long");
		return -EINVAL;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		c->vm = vm;
		c->fd = -1;
		pthread_mutex_init(&c->lock, NULL);
		if (vm_add_cleanup(vm, ctl_cleanup, c)) {
			snprintf(err, errlen, "too many cleanups on the machine");
			return -ENOSPC; /* c was freed by the cleanup */
		}
		vm->migration = c;
	}
	pthread_mutex_lock(&c->lock);
	if (c->active) {
		pthread_mutex_unlock(&c->lock);
		snprintf(err, errlen, "a migration is already in progress");
		return -EBUSY;
	}
	pthread_mutex_unlock(&c->lock);
	if (c->joinable) {
		pthread_join(c->thread, NULL);
		c->joinable = false;
	}
	memset(&c->st, 0, sizeof(c->st));
	c->st.phase = MIGRATION_ACTIVE;
	c->p = *p;
	c->cancel = 0;
	c->active = true;
	ret = pthread_create(&c->thread, NULL, source_thread, c);
	if (ret) {
		c->active = false;
		c->st.phase = MIGRATION_FAILED;
		snprintf(c->st.error, sizeof(c->st.error), "cannot start a thread");
		snprintf(err, errlen, "cannot start the migration thread: %s", strerror(ret));
		return -ret;
	}
	c->joinable = true;
	return 0;
}

int migration_cancel(struct vm *vm)
{
	struct migration_ctl *c = vm->migration;
	int ret = -ESRCH;

	if (!c)
		return ret;
	pthread_mutex_lock(&c->lock);
	if (c->active) {
		c->cancel = 1;
		ret = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

void migration_get_status(struct vm *vm, struct migration_status *st)
{
	struct migration_ctl *c = vm->migration;

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	pthread_mutex_unlock(&c->lock);
}

void migration_stop(struct vm *vm)
{
	struct migration_ctl *c = vm ? vm->migration : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->cancel = 1;
	pthread_mutex_unlock(&c->lock);
	if (c->joinable) {
		pthread_join(c->thread, NULL);
		c->joinable = false;
	}
}

/* ---- destination ---- */

struct dst_run {
	const char *uri;
	const struct migration_receive_opts *o;
	struct mig_reader r;
	struct mig_hello hello;
	struct vm_config *cfg;
	struct vm *vm;
	uint64_t pages;
	char *err;
	size_t errlen;
};

static int dst_config(struct dst_run *d, const struct mig_rec *rec)
{
	struct state_reader sr;
	struct sysinfo si;
	uint64_t host_ram = 0;
	struct vm_restore rs = { .mem_fd = -1, .start_paused = false };
	int ret;

	d->cfg = calloc(1, sizeof(*d->cfg));
	if (!d->cfg) {
		snprintf(d->err, d->errlen, "out of memory");
		return -ENOMEM;
	}
	state_reader_init(&sr, rec->payload, (size_t)rec->len);
	ret = vm_config_read(&sr, d->cfg);
	if (ret) {
		snprintf(d->err, d->errlen, "bad stream: %s", state_reader_msg(&sr));
		free(d->cfg);
		d->cfg = NULL;
		return -EBADMSG;
	}
	if (d->o) {
		/* Where this process's console goes is the destination's choice. */
		const char *path = d->o->console == CONSOLE_FILE ? d->o->console_path : NULL;
		char *copy = path ? strdup(path) : NULL;

		if (path && !copy) {
			snprintf(d->err, d->errlen, "out of memory");
			return -ENOMEM;
		}
		free((void *)(uintptr_t)d->cfg->console_path);
		d->cfg->console_path = copy;
		d->cfg->console = d->o->console;
	}
	if (sysinfo(&si) == 0)
		host_ram = (uint64_t)si.totalram * si.mem_unit;
	ret = vm_config_validate(d->cfg, host_ram, d->err, d->errlen);
	if (ret)
		return ret;
	if (d->cfg->mem_size != d->hello.ram_size) {
		snprintf(d->err, d->errlen, "bad stream: HELLO says %llu bytes of RAM, CONFIG %llu",
			 (unsigned long long)d->hello.ram_size,
			 (unsigned long long)d->cfg->mem_size);
		return -EBADMSG;
	}
	ret = vm_create_from(d->cfg, &rs, &d->vm);
	if (ret) {
		snprintf(d->err, d->errlen, "cannot build the machine: %s", strerror(-ret));
		return ret;
	}
	if (strcmp(d->vm->tmpl ? d->vm->tmpl->name : "", d->hello.cpu_template)) {
		snprintf(d->err, d->errlen,
			 "CPU template mismatch: the source runs '%s', this host gives '%s'",
			 d->hello.cpu_template, d->vm->tmpl ? d->vm->tmpl->name : "");
		return -EPROTO;
	}
	if (d->vm->mem.ram_size != d->hello.ram_size) {
		snprintf(d->err, d->errlen, "RAM size mismatch");
		return -EPROTO;
	}
	return 0;
}

static int dst_session(struct dst_run *d, int fd)
{
	struct mig_order ord = { 0 };
	struct mig_rec rec;
	struct state_reader sr;
	int ret;

	mig_reader_init_fd(&d->r, fd, MIG_RECV_TIMEOUT_MS);
	for (;;) {
		ret = mig_read_record(&d->r, &rec, d->err, d->errlen);
		if (ret)
			return ret;
		if (rec.type == MIG_REC_ERROR) {
			snprintf(d->err, d->errlen, "the source gave up: %.*s",
				 (int)(rec.len > 150 ? 150 : rec.len), (const char *)rec.payload);
			return -ECANCELED;
		}
		ret = mig_order_check(&ord, rec.type, d->err, d->errlen);
		if (ret)
			return ret;
		log_debug("migration", "%s record, %llu bytes at %.1f ms", mig_rec_name(rec.type),
			  (unsigned long long)rec.len, log_ms_since_start());
		switch (rec.type) {
		case MIG_REC_HELLO:
			ret = mig_hello_parse(rec.payload, (size_t)rec.len, &d->hello, d->err,
					      d->errlen);
			break;
		case MIG_REC_CONFIG:
			ret = dst_config(d, &rec);
			break;
		case MIG_REC_PAGES: {
			uint64_t n;

			ret = mig_pages_apply(rec.payload, (size_t)rec.len, d->vm->mem.mapping,
					      d->vm->mem.mapping_size, &n, d->err, d->errlen);
			d->pages += n;
			break;
		}
		case MIG_REC_STATE:
			state_reader_init(&sr, rec.payload, (size_t)rec.len);
			ret = vm_state_load(d->vm, &sr, d->err, d->errlen);
			break;
		case MIG_REC_DONE:
			ret = mig_send_record(fd, MIG_REC_READY, NULL, 0, MIG_IO_TIMEOUT_MS, NULL);
			if (ret) {
				snprintf(d->err, d->errlen, "cannot confirm to the source: %s",
					 strerror(-ret));
				return ret;
			}
			d->r.timeout_ms = MIG_READY_TIMEOUT_MS;
			ret = mig_read_record(&d->r, &rec, d->err, d->errlen);
			if (ret)
				return ret;
			if (rec.type != MIG_REC_GO) {
				snprintf(d->err, d->errlen, "the source sent %s instead of GO",
					 mig_rec_name(rec.type));
				return -EPROTO;
			}
			return 0;
		default:
			break;
		}
		if (ret)
			return ret;
	}
}

int migration_receive_ex(const char *uri, const struct migration_receive_opts *o,
			 struct vm_config **cfg_out, struct vm **out, char *err, size_t errlen)
{
	struct dst_run d = { .uri = uri, .o = o, .err = err, .errlen = errlen };
	int lfd, fd, ret;
	uint64_t t0;

	*cfg_out = NULL;
	*out = NULL;
	lfd = mig_listen(uri, err, errlen);
	if (lfd < 0)
		return lfd;
	log_info("migration", "waiting for a migration on %s", uri);
	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	ret = fd < 0 ? -errno : 0;
	mig_unlisten(uri, lfd);
	if (ret) {
		snprintf(err, errlen, "accept on %s: %s", uri, strerror(-ret));
		return ret;
	}
	t0 = now_ns();
	ret = dst_session(&d, fd);
	if (ret && ret != -ECONNRESET && ret != -ETIMEDOUT && ret != -ECANCELED)
		mig_send_error(fd, err);
	close(fd);
	mig_reader_free(&d.r);
	if (ret) {
		vm_destroy(d.vm);
		if (d.cfg) {
			vm_config_free_strings(d.cfg);
			free(d.cfg);
		}
		return ret < 0 ? ret : -EBADMSG;
	}
	log_info("migration", "received %llu pages in %.1f ms", (unsigned long long)d.pages,
		 (double)(now_ns() - t0) / 1e6);
	*cfg_out = d.cfg;
	*out = d.vm;
	return 0;
}

int migration_receive(const char *uri, struct vm_config **cfg_out, struct vm **out, char *err,
		      size_t errlen)
{
	return migration_receive_ex(uri, NULL, cfg_out, out, err, errlen);
}
