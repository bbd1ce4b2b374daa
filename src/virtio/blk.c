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
#include "devices/device.h"
#include "virtio/mmio.h"
#include "vmm/vm.h"

#define BLK_QUEUE_SIZE 256
#define BLK_SEG_MAX (VIRTQ_MAX_SEGS - 2)

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
	uint64_t capacity; /* sectors */
	bool flush;	   /* FLUSH offered (writeback cache) */
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtq_elem elem;
	uint64_t read_bytes, write_bytes, reads, writes, flushes;
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
			b->reads++;
			b->read_bytes += r->data_len;
		}
		break;
	case VIRTIO_BLK_T_OUT:
		ret = blk_rw(b, r);
		if (!ret) {
			b->writes++;
			b->write_bytes += r->data_len;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		ret = fdatasync(b->fd) < 0 ? -errno : 0;
		b->flushes++;
		break;
	case VIRTIO_BLK_T_GET_ID:
		written = (uint32_t)iov_from_buf(r->data, r->ndata, 0, b->id,
						 r->data_len < sizeof(b->id) ? r->data_len : sizeof(b->id));
		break;
	default:
		ret = -ENOTSUP;
		break;
	}
	if (ret) {
		errno = -ret;
		log_warn("virtio-blk", "%s: request type %u at sector %llu failed", b->cfg->path,
			 r->type, (unsigned long long)r->sector);
	}
	r->result = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	return written;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_blk *b = d->priv;
	struct virtq *vq = &d->vqs[q];
	struct virtio_blk_req req;
	int ret;

	for (;;) {
		uint32_t len = 0;

		ret = virtq_pop(vq, &b->elem);
		if (ret == 0) {
			virtq_set_notify(vq, true);
			if (!virtq_has_work(vq))
				break;
			virtq_set_notify(vq, false);
			continue;
		}
		if (ret < 0) {
			virtio_dev_set_needs_reset(d, "malformed request ring");
			return;
		}
		d->requests++;
		virtio_blk_parse(&b->elem, b->capacity, b->cfg->read_only, b->flush, &req);
		if (req.execute)
			len = blk_execute(b, &req);
		else
			d->errors++;
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

static void blk_destroy(struct virtio_dev *d)
{
	struct virtio_blk *b = d->priv;

	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

static const struct virtio_dev_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.features = blk_features,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.destroy = blk_destroy,
};

static int virtio_blk_create_one(struct vm *vm, const struct vm_disk_config *cfg)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	struct virtio_dev *d;
	struct stat st;
	const char *base;
	int flags, ret;

	if (!b)
		return -ENOMEM;
	b->cfg = cfg;
	flags = (cfg->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (cfg->cache == DISK_CACHE_NONE && !cfg->read_only)
		flags |= O_DSYNC; /* write-through: every write is durable */
	b->fd = open(cfg->path, flags);
	if (b->fd < 0 || fstat(b->fd, &st) < 0) {
		ret = -errno;
		log_err("virtio-blk", "disk %s", cfg->path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_errx("virtio-blk", "disk %s: not a regular file or block device", cfg->path);
		ret = -EINVAL;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(b->fd, 0, SEEK_END);

		st.st_size = end > 0 ? end : 0;
	}
	if (st.st_size % VIRTIO_BLK_SECTOR)
		log_warnx("virtio-blk", "disk %s: size is not a multiple of 512; the last %lld bytes are not visible",
			  cfg->path, (long long)(st.st_size % VIRTIO_BLK_SECTOR));
	b->capacity = (uint64_t)st.st_size / VIRTIO_BLK_SECTOR;
	b->flush = cfg->cache == DISK_CACHE_WRITEBACK && !cfg->read_only;
	base = cfg->id ? cfg->id : strrchr(cfg->path, '/') ? strrchr(cfg->path, '/') + 1 : cfg->path;
	/* Not NUL-terminated when it fills all 20 bytes, as the spec allows. */
	memcpy(b->id, base, strlen(base) < sizeof(b->id) ? strlen(base) : sizeof(b->id));
	return virtio_mmio_create(vm, &virtio_blk_ops, b, &d);
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return ret;
}

static int virtio_blk_create(struct vm *vm)
{
	for (unsigned i = 0; i < vm->cfg->ndisks; i++) {
		int ret = virtio_blk_create_one(vm, &vm->cfg->disks[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static const struct device_desc virtio_blk_device = {
	.name = "virtio-blk",
	.create = virtio_blk_create,
};
DEVICE_REGISTER(virtio_blk_device);
