// SPDX-License-Identifier: Apache-2.0
#include "virtio/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "base/rate_limiter.h"
#include "base/state.h"
#include "hw/device.h"
#include "hw/device_env.h"
#include "virtio/mmio.h"

#define BLK_QUEUE_SIZE 256
/*
 * Data segments per request: a chain may hold at most Queue Size
 * descriptors, indirect ones included (virtio 1.x, 2.7.5.3.1; the walker
 * enforces it), and a request also needs its header and status. Linux
 * sizes its requests by seg_max alone and chains them indirectly, so a
 * larger value here let 1 MiB O_DIRECT reads break the queue.
 */
#define BLK_SEG_MAX (BLK_QUEUE_SIZE - 2)
_Static_assert(BLK_SEG_MAX + 2 <= VIRTQ_MAX_SEGS, "seg_max above the walker's limit");

struct virtio_blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Drops `n` bytes from the front of an iovec array (in place). */
static void iov_drop_front(struct iovec *iov, unsigned *n, uint64_t bytes)
{
	unsigned i = 0;

	while (i < *n && bytes >= iov[i].iov_len) {
		bytes -= iov[i].iov_len;
		i++;
	}
	if (i < *n && bytes) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + bytes;
		iov[i].iov_len -= bytes;
	}
	memmove(iov, iov + i, (*n - i) * sizeof(*iov));
	*n -= i;
}

void virtio_blk_parse(struct virtq_elem *e, uint64_t capacity, bool read_only,
		      bool flush_supported, struct virtio_blk_req *r)
{
	struct virtio_blk_hdr hdr;
	struct iovec *last;
	uint64_t nsec, end;

	memset(r, 0, sizeof(*r));
	r->result = VIRTIO_BLK_S_IOERR;
	/* The status byte is the last byte the device may write. */
	while (e->nin && e->in[e->nin - 1].iov_len == 0)
		e->nin--;
	if (e->nin == 0)
		return; /* nowhere to report: caller completes with length 0 */
	last = &e->in[e->nin - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--;
	e->in_len--;

	if (iov_to_buf(e->out, e->nout, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return; /* header missing or short */
	iov_drop_front(e->out, &e->nout, sizeof(hdr));
	e->out_len -= sizeof(hdr);
	r->type = hdr.type;
	r->sector = hdr.sector;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (hdr.type == VIRTIO_BLK_T_IN) {
			r->data = e->in;
			r->ndata = e->nin;
			r->data_len = e->in_len;
		} else {
			r->data = e->out;
			r->ndata = e->nout;
			r->data_len = e->out_len;
			if (read_only)
				return; /* IOERR: a write to a read-only disk */
		}
		if (r->data_len % VIRTIO_BLK_SECTOR)
			return;
		nsec = r->data_len / VIRTIO_BLK_SECTOR;
		if (__builtin_add_overflow(hdr.sector, nsec, &end) || end > capacity)
			return;
		r->execute = true;
		return;
	case VIRTIO_BLK_T_FLUSH:
		if (!flush_supported) {
			r->result = VIRTIO_BLK_S_UNSUPP;
			return;
		}
		r->execute = true;
		return;
	case VIRTIO_BLK_T_GET_ID:
		r->data = e->in;
		r->ndata = e->nin;
		r->data_len = e->in_len;
		r->execute = true;
		return;
	default:
		r->result = VIRTIO_BLK_S_UNSUPP;
		return;
	}
}

/* ---- the device ---- */

struct virtio_blk {
	const struct vm_disk_config *cfg;
	int fd;
	char *path;	   /* the image now open (changes with vm_update_disk) */
	uint64_t capacity; /* sectors */
	bool flush;	   /* FLUSH offered (writeback cache) */
	char id[VIRTIO_BLK_ID_BYTES];
	char name[VIRTIO_BLK_NAME_MAX]; /* disk id: cfg->id or the file name */
	struct virtq_elem elem;
	struct rate_limiter rl;
	bool capacity_changed; /* restored: the image is not the size the guest knew */
	struct virtio_blk_metrics m;
	struct metrics_group *mg;
};

static const struct metrics_field blk_metric_fields[] = {
	METRICS_FIELD(struct virtio_blk_metrics, read_bytes),
	METRICS_FIELD(struct virtio_blk_metrics, write_bytes),
	METRICS_FIELD(struct virtio_blk_metrics, read_count),
	METRICS_FIELD(struct virtio_blk_metrics, write_count),
	METRICS_FIELD(struct virtio_blk_metrics, flush_count),
	METRICS_FIELD(struct virtio_blk_metrics, get_id_count),
	METRICS_FIELD(struct virtio_blk_metrics, invalid_reqs),
	METRICS_FIELD(struct virtio_blk_metrics, io_errors),
	METRICS_FIELD(struct virtio_blk_metrics, queue_events),
	METRICS_FIELD(struct virtio_blk_metrics, rate_limiter_throttled),
	METRICS_FIELD(struct virtio_blk_metrics, update_count),
	METRICS_FIELD(struct virtio_blk_metrics, update_fails),
};

static int blk_rw(struct virtio_blk *b, const struct virtio_blk_req *r)
{
	off_t off = (off_t)(r->sector * VIRTIO_BLK_SECTOR);
	unsigned i = 0;
	uint64_t left = r->data_len;
	struct iovec *iov = r->data;

	/* preadv/pwritev may be short: continue where they stopped. */
	while (left) {
		unsigned cnt = r->ndata - i > 1024 ? 1024 : r->ndata - i;
		ssize_t n = r->type == VIRTIO_BLK_T_IN ? preadv(b->fd, iov + i, (int)cnt, off) :
							  pwritev(b->fd, iov + i, (int)cnt, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 && r->type == VIRTIO_BLK_T_IN)
				return -EIO; /* the image shrank under us */
			return n < 0 ? -errno : -EIO;
		}
		off += n;
		left -= (uint64_t)n;
		while (n > 0 && i < r->ndata) {
			if ((size_t)n >= iov[i].iov_len) {
				n -= (ssize_t)iov[i].iov_len;
				i++;
			} else {
				iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
				iov[i].iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

static uint32_t blk_execute(struct virtio_blk *b, struct virtio_blk_req *r)
{
	uint32_t written = 0;
	int ret = 0;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		ret = blk_rw(b, r);
		if (!ret) {
			written = (uint32_t)r->data_len;
			metrics_inc(&b->m.read_count);
			metrics_add(&b->m.read_bytes, r->data_len);
		}
		break;
	case VIRTIO_BLK_T_OUT:
		ret = blk_rw(b, r);
		if (!ret) {
			metrics_inc(&b->m.write_count);
			metrics_add(&b->m.write_bytes, r->data_len);
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		ret = fdatasync(b->fd) < 0 ? -errno : 0;
		metrics_inc(&b->m.flush_count);
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = (uint32_t)iov_from_buf(r->data, r->ndata, 0, b->id,
						 r->data_len < sizeof(b->id) ? r->data_len : sizeof(b->id));
		metrics_inc(&b->m.get_id_count);
		break;
	default:
		ret = -ENOTSUP;
		break;
	}
	if (ret) {
		metrics_inc(&b->m.io_errors);
		errno = -ret;
		log_warn("virtio-blk", "%s: request type %u at sector %llu failed", b->path,
			 r->type, (unsigned long long)r->sector);
	}
	r->result = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	return written;
}

/*
 * Whether the rate limiter lets the request through now. If not, the
 * chain goes back on the ring and the queue waits for the limiter.
 * Bytes: the data length (0 for requests that are not executed); one op
 * per request.
 */
static bool blk_admit(struct virtio_dev *d, struct virtio_blk *b, unsigned q,
		      const struct virtio_blk_req *req)
{
	uint64_t bytes = req->execute ? req->data_len : 0;

	if (virtio_dev_admit(d, q, &b->rl, bytes, &b->m.rate_limiter_throttled))
		return true;
	virtq_unpop(&d->vqs[q], 1);
	return false;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_blk *b = d->priv;
	struct virtq *vq = &d->vqs[q];
	struct virtio_blk_req req;
	int ret;

	if (virtio_dev_throttled(d, q))
		return; /* the rate limiter's timer resumes the queue */
	metrics_inc(&b->m.queue_events);
	for (;;) {
		uint32_t len = 0;

		ret = virtq_pop(vq, &b->elem);
		if (ret == 0) {
			if (!virtq_rearm(vq))
				break;
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed request ring");
			return;
		}
		virtio_blk_parse(&b->elem, b->capacity, b->cfg->read_only, b->flush, &req);
		if (!blk_admit(d, b, q, &req))
			break;
		d->requests++;
		if (req.execute) {
			len = blk_execute(b, &req);
		} else {
			d->errors++;
			metrics_inc(&b->m.invalid_reqs);
		}
		if (req.status) {
			*req.status = req.result;
			len++;
		}
		virtq_push(vq, b->elem.head, len);
	}
	virtio_dev_notify_used(d, q);
}

static uint64_t blk_features(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;
	uint64_t f = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE);

	if (b->cfg->read_only)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	if (b->flush)
		f |= 1ULL << VIRTIO_BLK_F_FLUSH;
	return f;
}

static void blk_config_read(struct virtio_dev *d, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_blk *b = d->priv;
	uint8_t cfg[24];
	uint32_t seg_max = BLK_SEG_MAX, blk_size = VIRTIO_BLK_SECTOR;

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg + 0, &b->capacity, 8);
	memcpy(cfg + 12, &seg_max, 4);
	memcpy(cfg + 20, &blk_size, 4);
	if (off < sizeof(cfg))
		memcpy(data, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

static void blk_free(struct virtio_blk *b)
{
	metrics_unregister(b->mg);
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(b);
}

static void blk_destroy(struct virtio_dev *d)
{
	blk_free(d->priv);
}

const struct virtio_dev_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.features = blk_features,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.destroy = blk_destroy,
};

/*
 * Opens an image with the disk's mode; *capacity in sectors. The fd, or
 * -errno with a message in err.
 */
static int blk_open_image(const struct vm_disk_config *cfg, const char *path,
			  uint64_t *capacity, char *err, size_t errlen)
{
	struct stat st;
	int fd, flags, ret;

	flags = (cfg->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (cfg->cache == DISK_CACHE_NONE && !cfg->read_only)
		flags |= O_DSYNC; /* write-through: every write is durable */
	fd = open(path, flags);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "disk %s: %s", path, strerror(-ret));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "disk %s: not a regular file or block device", path);
		ret = -EINVAL;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		st.st_size = end > 0 ? end : 0;
	}
	if (st.st_size % VIRTIO_BLK_SECTOR)
		log_warnx("virtio-blk", "disk %s: size is not a multiple of 512; the last %lld bytes are not visible",
			  path, (long long)(st.st_size % VIRTIO_BLK_SECTOR));
	*capacity = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return ret;
}

const char *virtio_blk_disk_id(const struct vm_disk_config *cfg)
{
	const char *slash = strrchr(cfg->path, '/');

	return cfg->id ? cfg->id : slash ? slash + 1 : cfg->path;
}

void *virtio_blk_alloc(const struct vm_disk_config *cfg)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	char err[300], group[VIRTIO_BLK_NAME_MAX + 8];
	const char *base;

	if (!b)
		return NULL;
	b->cfg = cfg;
	b->path = strdup(cfg->path);
	b->fd = b->path ? blk_open_image(cfg, cfg->path, &b->capacity, err, sizeof(err)) : -ENOMEM;
	if (b->fd < 0) {
		log_errx("virtio-blk", "%s", b->path ? err : "out of memory");
		goto fail;
	}
	b->flush = cfg->cache == DISK_CACHE_WRITEBACK && !cfg->read_only;
	base = virtio_blk_disk_id(cfg);
	snprintf(b->name, sizeof(b->name), "%s", base);
	/* Not NUL-terminated when it fills all 20 bytes, as the spec allows. */
	memcpy(b->id, base, strlen(base) < sizeof(b->id) ? strlen(base) : sizeof(b->id));
	rate_limiter_init(&b->rl, &cfg->rate_limit);
	snprintf(group, sizeof(group), "block_%s", b->name);
	b->mg = metrics_register(group, blk_metric_fields,
				 sizeof(blk_metric_fields) / sizeof(blk_metric_fields[0]), &b->m);
	if (!b->mg)
		log_warnx("virtio-blk", "disk %s: no metrics group", b->name);
	return b;
fail:
	blk_free(b);
	return NULL;
}

const char *virtio_blk_name(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	return b->name;
}

const struct virtio_blk_metrics *virtio_blk_get_metrics(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	return &b->m;
}

int virtio_blk_update(struct virtio_dev *d, const char *path,
		      const struct rate_limiter_config *rl, char *err, size_t errlen)
{
	struct virtio_blk *b = d->priv;
	uint64_t capacity = 0;
	char *new_path = NULL;
	int fd = -1, old_fd;

	if (path) {
		new_path = strdup(path);
		if (!new_path) {
			snprintf(err, errlen, "out of memory");
			metrics_inc(&b->m.update_fails);
			return -ENOMEM;
		}
		/* Open before the old file is closed: a bad path changes nothing. */
		fd = blk_open_image(b->cfg, path, &capacity, err, errlen);
		if (fd < 0) {
			free(new_path);
			metrics_inc(&b->m.update_fails);
			return fd;
		}
	}
	pthread_mutex_lock(&d->lock);
	if (path) {
		old_fd = b->fd;
		b->fd = fd;
		fd = old_fd;
		free(b->path);
		b->path = new_path;
		if (capacity != b->capacity) {
			b->capacity = capacity;
			virtio_dev_config_changed(d);
		}
	}
	if (rl) {
		rate_limiter_reconfigure(&b->rl, rl);
		virtio_dev_throttle_resume(d);
	}
	metrics_inc(&b->m.update_count);
	pthread_mutex_unlock(&d->lock);
	if (fd >= 0)
		close(fd); /* the old image, after the last request on it */
	if (path)
		log_info("virtio-blk", "disk %s: now %s, %llu sectors", b->name, path,
			 (unsigned long long)capacity);
	return 0;
}

/* ---- snapshots ---- */

static int blk_state_save(void *opaque, struct state_writer *w)
{
	struct virtio_dev *d = opaque;
	struct virtio_blk *b = d->priv;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_save(d, w);
	state_put_u64(w, b->capacity);
	rate_limiter_save(&b->rl, w);
	pthread_mutex_unlock(&d->lock);
	return w->err; /* 0 or -ENOMEM; the machine closes the section */
}

static int blk_state_load(void *opaque, struct state_reader *r, char *err, size_t errlen)
{
	struct virtio_dev *d = opaque;
	struct virtio_blk *b = d->priv;
	struct virtio_mmio_state st;
	struct rate_limiter rl = b->rl;
	uint64_t capacity;
	int ret;

	pthread_mutex_lock(&d->lock);
	virtio_mmio_state_read(d, r, &st);
	capacity = state_get_u64(r);
	rate_limiter_load(&rl, r, "virtio-blk");
	/* Requests complete (or go back on the ring) under the lock: none held. */
	virtio_mmio_state_check_held(r, &st, "virtio-blk", 0, 0);
	ret = virtio_mmio_state_finish(r, "virtio-blk state", err, errlen);
	if (!ret) {
		virtio_mmio_state_apply(d, &st);
		b->rl = rl;
		b->capacity_changed = capacity != b->capacity;
		if (b->capacity_changed)
			log_warnx("virtio-blk", "disk %s: %llu sectors now, %llu when saved", b->name,
				  (unsigned long long)b->capacity, (unsigned long long)capacity);
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void blk_state_resumed(void *opaque)
{
	struct virtio_dev *d = opaque;
	struct virtio_blk *b = d->priv;

	if (!virtio_mmio_state_resumed(d))
		return;
	pthread_mutex_lock(&d->lock);
	if (b->capacity_changed && (d->status & VIRTIO_STATUS_DRIVER_OK))
		virtio_dev_config_changed(d);
	b->capacity_changed = false;
	pthread_mutex_unlock(&d->lock);
}

const struct device_state_ops virtio_blk_state_ops = {
	.version = VIRTIO_BLK_STATE_VERSION,
	.save = blk_state_save,
	.load = blk_state_load,
	.resumed = blk_state_resumed,
	.quiesce = virtio_mmio_state_quiesce,
};

static int virtio_blk_create_one(const struct device_env *env, const struct vm_disk_config *cfg,
				 struct virtio_dev **out)
{
	void *b = virtio_blk_alloc(cfg);

	if (!b)
		return -EINVAL; /* logged */
	return virtio_mmio_create(env, &virtio_blk_ops, b, out);
}

static int virtio_blk_create(const struct device_env *env)
{
	for (unsigned i = 0; i < env->cfg.ndisks; i++) {
		struct virtio_dev *d;
		int ret = virtio_blk_create_one(env, &env->cfg.disks[i], &d);

		if (!ret)
			ret = virtio_mmio_register_state_id(d, "virtio-blk", virtio_blk_name(d), i,
							    &virtio_blk_state_ops);
		if (ret)
			return ret;
		if (env->set_disk)
			env->set_disk(env->machine, i, d);
	}
	return 0;
}

static const struct device_desc virtio_blk_device = {
	.name = "virtio-blk",
	.create = virtio_blk_create,
};
DEVICE_REGISTER(virtio_blk_device);
