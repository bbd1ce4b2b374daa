// SPDX-License-Identifier: Apache-2.0
/*
 * The state file's framing (snapshot/snapshot.h): "OSPRSNAP", format
 * version, type, body length, body, CRC-64 of everything before it; and
 * the body's "memory" section. Nothing of a file is used before the
 * whole of it checked out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/memory.h"
#include "snapshot/snapshot_int.h"

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int snapshot_file_build(enum snapshot_type t, const void *body, size_t body_len, uint8_t **out,
			size_t *outlen)
{
	size_t len = SNAPSHOT_HEADER_BYTES + body_len + SNAPSHOT_TRAILER_BYTES;
	uint8_t *buf;

	if (body_len > SNAPSHOT_FILE_MAX)
		return -EFBIG;
	buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, SNAPSHOT_MAGIC, 8);
	put_le(buf + 8, SNAPSHOT_FORMAT_VERSION, 4);
	put_le(buf + 12, (uint32_t)t, 4);
	put_le(buf + 16, body_len, 8);
	if (body_len)
		memcpy(buf + SNAPSHOT_HEADER_BYTES, body, body_len);
	put_le(buf + len - 8, state_crc64(buf, len - 8, 0), 8);
	*out = buf;
	*outlen = len;
	return 0;
}

/* The checks of snapshot_file_parse; name (the path) only for messages. */
static int parse(const uint8_t *buf, size_t len, struct snapshot_file *f, const char *name,
		 char *err, size_t errlen)
{
	uint64_t body_len, crc;
	uint32_t version, type;
	char what[96];

	memset(f, 0, sizeof(*f));
	if (name)
		snprintf(what, sizeof(what), "state file %s", name);
	else
		snprintf(what, sizeof(what), "state file");
	if (len == 0) {
		snprintf(err, errlen, "%s is empty", what);
		return -EBADMSG;
	}
	if (len < 8 || memcmp(buf, SNAPSHOT_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s is not an osprey snapshot (bad magic)", what);
		return -EBADMSG;
	}
	if (len < SNAPSHOT_HEADER_BYTES + SNAPSHOT_TRAILER_BYTES) {
		snprintf(err, errlen, "%s is truncated: %zu bytes, shorter than its header", what,
			 len);
		return -EBADMSG;
	}
	version = (uint32_t)get_le(buf + 8, 4);
	type = (uint32_t)get_le(buf + 12, 4);
	body_len = get_le(buf + 16, 8);
	if (version != SNAPSHOT_FORMAT_VERSION) {
		snprintf(err, errlen,
			 "%s has snapshot format version %u, this osprey reads version %u", what,
			 version, SNAPSHOT_FORMAT_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (body_len > len - SNAPSHOT_HEADER_BYTES - SNAPSHOT_TRAILER_BYTES) {
		snprintf(err, errlen, "%s is truncated: %zu bytes, its header says %llu", what, len,
			 (unsigned long long)body_len + SNAPSHOT_HEADER_BYTES +
				 SNAPSHOT_TRAILER_BYTES);
		return -EBADMSG;
	}
	if (body_len != len - SNAPSHOT_HEADER_BYTES - SNAPSHOT_TRAILER_BYTES) {
		snprintf(err, errlen, "%s is corrupt: %llu bytes after its end", what,
			 (unsigned long long)(len - SNAPSHOT_HEADER_BYTES - SNAPSHOT_TRAILER_BYTES -
					      body_len));
		return -EBADMSG;
	}
	crc = get_le(buf + len - 8, 8);
	if (crc != state_crc64(buf, len - 8, 0)) {
		snprintf(err, errlen, "%s is corrupt: checksum mismatch", what);
		return -EBADMSG;
	}
	if (type != SNAPSHOT_FULL && type != SNAPSHOT_DIFF) {
		snprintf(err, errlen, "%s has an unknown snapshot type %u", what, type);
		return -EBADMSG;
	}
	f->type = (enum snapshot_type)type;
	f->body = buf + SNAPSHOT_HEADER_BYTES;
	f->body_len = (size_t)body_len;
	return 0;
}

int snapshot_file_parse(const void *buf, size_t len, struct snapshot_file *f, char *err,
			size_t errlen)
{
	return parse(buf, len, f, NULL, err, errlen);
}

int snapshot_file_read(const char *path, struct snapshot_file *f, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len, got = 0;
	int fd, ret;

	memset(f, 0, sizeof(*f));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open state file %s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "state file %s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > SNAPSHOT_FILE_MAX) {
		snprintf(err, errlen, "state file %s is %llu bytes, more than a state file can be",
			 path, (unsigned long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory reading state file %s", path);
		return -ENOMEM;
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read state file %s: %s", path,
				 strerror(errno));
			free(buf);
			close(fd);
			return ret;
		}
		if (n == 0)
			break; /* shrank under us: parse reports it truncated */
		got += (size_t)n;
	}
	close(fd);
	ret = parse(buf, got, f, path, err, errlen);
	if (ret) {
		free(buf);
		memset(f, 0, sizeof(*f));
		return ret;
	}
	f->buf = buf;
	f->len = got;
	return 0;
}

void snapshot_file_free(struct snapshot_file *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

size_t snapshot_bitmap_words(uint64_t ram_size)
{
	return (size_t)(((ram_size >> GUEST_PAGE_SHIFT) + 63) / 64);
}

void snapshot_memory_write(struct state_writer *w, uint64_t ram_size, const uint64_t *bits,
			   size_t nwords)
{
	state_section_begin(w, "memory", SNAPSHOT_MEMORY_VERSION);
	state_put_u64(w, ram_size);
	state_put_u32(w, (uint32_t)GUEST_PAGE_SIZE);
	state_put_bool(w, bits != NULL);
	if (bits) {
		state_put_u64(w, nwords);
		for (size_t i = 0; i < nwords; i++)
			state_put_u64(w, bits[i]);
	}
	state_section_end(w);
}

int snapshot_memory_read(const struct snapshot_file *f, struct snapshot_memory *m, char *err,
			 size_t errlen)
{
	struct state_reader r, sub;
	uint32_t version, page;
	bool has_bits;
	int ret;

	memset(m, 0, sizeof(*m));
	state_reader_init(&r, f->body, f->body_len);
	ret = state_find_section(&r, "memory", &version, &sub);
	if (ret) {
		snprintf(err, errlen, ret == -ENOENT ? "the snapshot has no memory section" :
						       "the snapshot's sections are malformed");
		return -EBADMSG;
	}
	if (version != SNAPSHOT_MEMORY_VERSION) {
		snprintf(err, errlen, "memory section is version %u, this osprey reads version %u",
			 version, SNAPSHOT_MEMORY_VERSION);
		return -EBADMSG;
	}
	m->ram_size = state_get_u64(&sub);
	page = state_get_u32(&sub);
	has_bits = state_get_bool(&sub);
	if (!state_reader_error(&sub) && page != GUEST_PAGE_SIZE)
		state_fail(&sub, "page size %u, this osprey uses %llu", page,
			   (unsigned long long)GUEST_PAGE_SIZE);
	if (!state_reader_error(&sub) && (m->ram_size == 0 || m->ram_size % GUEST_PAGE_SIZE))
		state_fail(&sub, "RAM size %llu is not a whole number of pages",
			   (unsigned long long)m->ram_size);
	if (!state_reader_error(&sub) && has_bits != (f->type == SNAPSHOT_DIFF))
		state_fail(&sub, has_bits ? "a Full snapshot with a page bitmap" :
					    "a Diff snapshot without a page bitmap");
	if (!state_reader_error(&sub) && has_bits) {
		uint64_t n = state_get_u64(&sub);

		if (!state_reader_error(&sub) && n != snapshot_bitmap_words(m->ram_size))
			state_fail(&sub, "bitmap of %llu words for %llu bytes of RAM",
				   (unsigned long long)n, (unsigned long long)m->ram_size);
		else if (!state_reader_error(&sub) && n * 8 > state_remaining(&sub))
			state_fail(&sub, "bitmap truncated");
		if (!state_reader_error(&sub)) {
			m->nwords = (size_t)n;
			m->bits = calloc(m->nwords ? m->nwords : 1, sizeof(uint64_t));
			if (!m->bits)
				state_fail(&sub, "out of memory for the page bitmap");
			for (size_t i = 0; i < m->nwords && !state_reader_error(&sub); i++)
				m->bits[i] = state_get_u64(&sub);
		}
	}
	if (!state_reader_error(&sub))
		state_reader_finish(&sub, "memory");
	if (state_reader_error(&sub)) {
		snprintf(err, errlen, "memory section: %s", state_reader_msg(&sub));
		snapshot_memory_free(m);
		return -EBADMSG;
	}
	return 0;
}

void snapshot_memory_free(struct snapshot_memory *m)
{
	free(m->bits);
	memset(m, 0, sizeof(*m));
}
