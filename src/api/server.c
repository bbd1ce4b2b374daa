// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP on a Unix socket with libmicrohttpd. osprey creates, binds and
 * listens on the AF_UNIX socket itself and hands it to MHD
 * (MHD_OPTION_LISTEN_SOCKET).
 *
 * Threading: MHD runs its own internal polling thread (one thread, not one
 * per connection). Before InstanceStart there is no VMM event loop to
 * join (vm_run's loop lives on the VMM thread, and only once the machine
 * exists), so the API needs a thread of its own anyway; and with a single
 * polling thread every request is handled on that thread, one after the
 * other, so the API context needs no lock and a slow request (pause waits
 * for every vCPU) only delays the next request, never the guest.
 *
 * Bodies are read in the chunks MHD delivers and accumulated up to
 * API_MAX_BODY; past that the rest is read and dropped and the answer is
 * 400. A Content-Length above the limit is answered before the body is
 * read (MHD then closes the connection).
 */
#include "api/server.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/log.h"

#define API_LISTEN_BACKLOG 16
#define API_CONNECTION_TIMEOUT_S 30

struct api_server {
	struct MHD_Daemon *daemon;
	struct api_ctx *ctx;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Per request, from the first call of the access handler to completion. */
struct api_request {
	char *buf;
	size_t len;
	size_t received;
	bool oversize;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("api", "http: %s", buf);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct api_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len = resp->body ? strlen(resp->body) : 0;

	r = MHD_create_response_from_buffer(len, resp->body,
					    resp->body ? MHD_RESPMEM_MUST_FREE :
							 MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL; /* MHD frees it with the response */
	if (len)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void oversize_fault(struct api_response *resp, size_t n)
{
	resp->body = NULL;
	api_reply_fault(resp, 400, "Request payload with size %zu is larger than the limit of %d bytes",
			n, API_MAX_BODY);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct api_server *s = cls;
	struct api_request *rq = *req_cls;
	struct api_response resp = { 0 };

	(void)version;
	if (!rq) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long n = cl ? strtoull(cl, NULL, 10) : 0;

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*req_cls = rq;
		if (n > API_MAX_BODY) {
			rq->oversize = true;
			oversize_fault(&resp, (size_t)n);
			return send_response(conn, &resp);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		rq->received += n;
		if (rq->oversize)
			return MHD_YES;
		if (rq->len + n > API_MAX_BODY) {
			rq->oversize = true;
			free(rq->buf);
			rq->buf = NULL;
			rq->len = 0;
			return MHD_YES;
		}
		char *nb = realloc(rq->buf, rq->len + n);

		if (!nb)
			return MHD_NO;
		rq->buf = nb;
		memcpy(rq->buf + rq->len, upload_data, n);
		rq->len += n;
		return MHD_YES;
	}
	if (rq->oversize)
		oversize_fault(&resp, rq->received);
	else
		api_handle(s->ctx, method, url, rq->buf, rq->len, &resp);
	log_info("api", "%s %s: %u", method, url, resp.status);
	return send_response(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_request *rq = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!rq)
		return;
	free(rq->buf);
	free(rq);
	*req_cls = NULL;
}

/* A socket file someone accepts connections on is in use; one nobody does is stale. */
static int clear_stale_socket(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret = 0;

	if (lstat(addr->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_errx("api", "%s exists and is not a socket", addr->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("api", "socket");
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
		log_errx("api", "%s is in use by another process", addr->sun_path);
		ret = -EADDRINUSE;
	} else if (unlink(addr->sun_path) != 0 && errno != ENOENT) {
		ret = -errno;
		log_err("api", "cannot remove the stale socket %s", addr->sun_path);
	}
	close(fd);
	return ret;
}

/*
 * Paths are matched as they were sent, as Firecracker does: no percent
 * decoding (libmicrohttpd's default would turn /drives/a%00b into the
 * drive "a"). Ids with '%' then fail the id check like any other byte.
 */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

int api_server_start(const char *path, struct api_ctx *ctx, struct api_server **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct api_server *s;
	int fd = -1, ret;

	*out = NULL;
	if (!*path || strlen(path) >= sizeof(addr.sun_path)) {
		log_errx("api", "--api-sock: the path must be 1 to %zu characters",
			 sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	ret = clear_stale_socket(&addr);
	if (ret)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		log_err("api", "socket");
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
		ret = -errno;
		log_err("api", "cannot bind %s", path);
		goto fail_fd;
	}
	memcpy(s->path, path, strlen(path) + 1);
	if (listen(fd, API_LISTEN_BACKLOG) != 0) {
		ret = -errno;
		log_err("api", "cannot listen on %s", path);
		goto fail_unlink;
	}
	s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				     NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
				     on_completed, s,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)API_CONNECTION_TIMEOUT_S, MHD_OPTION_UNESCAPE_CALLBACK,
				     no_unescape, NULL, MHD_OPTION_END);
	if (!s->daemon) {
		ret = -EIO;
		log_errx("api", "cannot start the HTTP server on %s", path);
		goto fail_unlink;
	}
	log_info("api", "listening on %s", path);
	*out = s;
	return 0;
fail_unlink:
	unlink(path);
fail_fd:
	close(fd);
fail:
	free(s);
	return ret;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	/* Closes the listening socket too. */
	MHD_stop_daemon(s->daemon);
	unlink(s->path);
	free(s);
}
