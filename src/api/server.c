// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP/1.1 on a Unix socket: osprey's own small server over http-parser
 * (the parser only; sockets, buffers and responses are ours).
 *
 * Threading: one thread of its own, an epoll loop over the listening
 * socket, the connections and an eventfd that stops it. Before
 * InstanceStart there is no VMM event loop to join (vm_run's loop lives
 * on the VMM thread, and only once the machine exists), so the API needs
 * a thread anyway; and with every request handled on that thread, one
 * after the other, the API context needs no lock and a slow request
 * (pause waits for every vCPU) only delays the next request, never the
 * guest.
 *
 * The client is untrusted, so everything is bounded: at most
 * API_MAX_CONNECTIONS connections (more are accepted and closed at once),
 * API_MAX_HEADERS bytes of request line and headers, API_MAX_URL bytes of
 * URL, API_MAX_BODY bytes of body (a larger Content-Length is answered 400
 * before the body is read; a chunked body is cut off where it passes the
 * limit), one response queued per connection (pipelined requests wait in
 * the socket and the parser is paused between requests, so they are
 * answered in order), and an idle timeout. Malformed requests are
 * answered 400 and the connection closed.
 *
 * A connection that is to close (Connection: close, HTTP/1.0 without
 * keep-alive, an error) first flushes its response, then shuts down its
 * writing side and reads and drops what the client still sends for a
 * while (a client that is still sending a body it was told not to send
 * would otherwise get a reset before it reads the answer).
 */
#include "api/server.h"

#include <errno.h>
#include <http_parser.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/log.h"
#include "base/metrics.h"
#include "vmm/seccomp.h"

#define API_LISTEN_BACKLOG 64
#define API_MAX_CONNECTIONS 32
#define API_IDLE_TIMEOUT_MS 30000
/* How long a closing connection keeps reading what the client still sends. */
#define API_LINGER_MS 2000
#define API_LINGER_MAX_BYTES (1 << 20)
#define API_MAX_HEADERS 8192
#define API_MAX_URL 2048
#define API_INBUF 4096
#define API_HEADER_NAME 16
#define API_HEADER_VALUE 16
#define API_EPOLL_EVENTS 16
/* Reads per wake-up of one connection, so that a busy client cannot starve the others. */
#define API_READS_PER_TURN 8

enum conn_state {
	CONN_OPEN,    /* reading requests */
	CONN_CLOSING, /* flushing the last response, then lingering */
	CONN_LINGER,  /* writing side shut: reading and dropping until EOF */
	CONN_DEAD,    /* closed; freed at the end of the event batch */
};

struct api_conn {
	struct api_server *srv;
	int fd;
	uint32_t events; /* what epoll waits for */
	enum conn_state state;
	uint64_t deadline_ms; /* idle timeout or end of lingering */
	size_t lingered;
	struct api_conn *next_dead;
	http_parser parser;
	/* Unparsed bytes: the parser stops after each request. */
	char in[API_INBUF];
	size_t in_off, in_len;
	/* The current request. */
	char url[API_MAX_URL + 1];
	size_t url_len;
	bool url_too_long;
	char hname[API_HEADER_NAME + 1], hvalue[API_HEADER_VALUE + 1];
	size_t hname_len, hvalue_len;
	bool hname_long, hvalue_long, in_value;
	bool expect_continue;
	char *body;
	size_t body_len;
	bool body_oversize;
	bool handled; /* a response to this request is queued */
	uint64_t start_us; /* the request's first byte was parsed (metrics) */
	/* Queued output: at most a 100 Continue and one response. */
	char *out;
	size_t out_off, out_len;
};

struct api_server {
	struct api_ctx *ctx;
	int listen_fd, epoll_fd, stop_fd;
	pthread_t thread;
	bool thread_started;
	struct api_conn *conns[API_MAX_CONNECTIONS];
	unsigned nconns;
	struct api_conn *dead;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_ms(void)
{
	return now_us() / 1000;
}

static void conn_close(struct api_conn *c)
{
	struct api_server *s = c->srv;

	if (c->state == CONN_DEAD)
		return;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_DEAD;
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++) {
		if (s->conns[i] == c) {
			s->conns[i] = NULL;
			s->nconns--;
			break;
		}
	}
	/* Events for it may follow in the same batch: free it after. */
	c->next_dead = s->dead;
	s->dead = c;
}

static void conn_free(struct api_conn *c)
{
	free(c->body);
	free(c->out);
	free(c);
}

static int conn_queue(struct api_conn *c, const char *data, size_t len)
{
	size_t pending = c->out_len - c->out_off;
	char *nb;

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	nb = realloc(c->out, pending + len);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + pending, data, len);
	c->out = nb;
	c->out_len = pending + len;
	return 0;
}

/*
 * Queues resp (and frees its body); close_after: the connection ends
 * after it. The answer to HEAD has the headers of the body but not the body.
 */
static int conn_respond(struct api_conn *c, struct api_response *resp, bool close_after)
{
	bool head_only = c->parser.method == HTTP_HEAD;
	size_t blen = resp->body ? strlen(resp->body) : 0;
	const char *reason = http_status_str((enum http_status)resp->status);
	char head[256];
	int n, ret;

	if (resp->status == 204)
		n = snprintf(head, sizeof(head), "HTTP/1.1 %u %s\r\nServer: osprey\r\n%s\r\n",
			     resp->status, reason, close_after ? "Connection: close\r\n" : "");
	else
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %u %s\r\nServer: osprey\r\n%s"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			     resp->status, reason, close_after ? "Connection: close\r\n" : "",
			     blen);
	ret = conn_queue(c, head, (size_t)n);
	if (!ret && blen && resp->status != 204 && !head_only)
		ret = conn_queue(c, resp->body, blen);
	free(resp->body);
	resp->body = NULL;
	c->handled = true;
	if (close_after && c->state == CONN_OPEN)
		c->state = CONN_CLOSING;
	return ret;
}

/* A 400 for a request that cannot be handled; the connection then closes. */
static void conn_fail(struct api_conn *c, const char *why)
{
	struct api_response resp = { 0 };

	api_reply_fault(&resp, 400, "Malformed HTTP request: %s", why);
	log_info("api", "malformed request: %s: 400", why);
	conn_respond(c, &resp, true);
}

static void oversize_fault(struct api_conn *c, uint64_t n)
{
	struct api_response resp = { 0 };

	api_reply_fault(&resp, 400,
			"Request payload with size %llu is larger than the limit of %d bytes",
			(unsigned long long)n, API_MAX_BODY);
	log_info("api", "%s: request body over %d bytes: 400",
		 http_method_str((enum http_method)c->parser.method), API_MAX_BODY);
	conn_respond(c, &resp, true);
}

static int append(char *dst, size_t cap, size_t *len, bool *overflow, const char *at, size_t n)
{
	if (*overflow || n > cap - *len) {
		*overflow = true;
		return 0;
	}
	memcpy(dst + *len, at, n);
	*len += n;
	dst[*len] = '\0';
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct api_conn *c = p->data;

	c->url_len = 0;
	c->url[0] = '\0';
	c->url_too_long = false;
	c->hname_len = c->hvalue_len = 0;
	c->hname_long = c->hvalue_long = c->in_value = false;
	c->expect_continue = false;
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->body_oversize = false;
	c->handled = false;
	c->start_us = now_us();
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	return append(c->url, API_MAX_URL, &c->url_len, &c->url_too_long, at, n);
}

/*
 * Only Expect matters here: the parser itself reads Content-Length,
 * Transfer-Encoding and Connection.
 */
static void header_done(struct api_conn *c)
{
	if (!c->hname_long && !c->hvalue_long && !strcasecmp(c->hname, "expect") &&
	    !strcasecmp(c->hvalue, "100-continue"))
		c->expect_continue = true;
	c->hname_len = c->hvalue_len = 0;
	c->hname[0] = c->hvalue[0] = '\0';
	c->hname_long = c->hvalue_long = c->in_value = false;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	if (c->in_value)
		header_done(c);
	return append(c->hname, API_HEADER_NAME, &c->hname_len, &c->hname_long, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	c->in_value = true;
	return append(c->hvalue, API_HEADER_VALUE, &c->hvalue_len, &c->hvalue_long, at, n);
}

static int on_headers_complete(http_parser *p)
{
	struct api_conn *c = p->data;
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (c->in_value)
		header_done(c);
	if (c->url_too_long) {
		conn_fail(c, "the URL is too long");
		http_parser_pause(p, 1);
		return 0;
	}
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > API_MAX_BODY) {
		oversize_fault(c, p->content_length);
		http_parser_pause(p, 1);
		return 0;
	}
	/* The body follows at once: no waiting for curl's 1 s Expect timeout. */
	if (c->expect_continue && p->http_minor >= 1 &&
	    ((p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)) &&
	    conn_queue(c, cont, sizeof(cont) - 1))
		return -1;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;
	char *nb;

	if (n > API_MAX_BODY - c->body_len) {
		oversize_fault(c, c->body_len + n);
		http_parser_pause(p, 1);
		return 0;
	}
	nb = realloc(c->body, c->body_len + n);
	if (!nb)
		return -1;
	memcpy(nb + c->body_len, at, n);
	c->body = nb;
	c->body_len += n;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct api_conn *c = p->data;
	const char *method = http_method_str((enum http_method)p->method);
	struct api_response resp = { 0 };

	/* No percent decoding (as Firecracker); the query string is dropped. */
	c->url[strcspn(c->url, "?")] = '\0';
	api_handle(c->srv->ctx, method, c->url, c->body, c->body_len, &resp);
	/* The api_server metrics group: request count, latency, status classes. */
	metrics_api_request(now_us() - c->start_us, resp.status);
	log_info("api", "%s %s: %u", method, c->url, resp.status);
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	conn_respond(c, &resp, !http_should_keep_alive(p) || p->upgrade);
	/* One request at a time: the next waits until this answer is out. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

/* Parses what is buffered, up to the end of the next request. */
static void conn_parse(struct api_conn *c)
{
	http_parser *p = &c->parser;
	size_t n = http_parser_execute(p, &parser_settings, c->in + c->in_off,
				       c->in_len - c->in_off);
	enum http_errno e = HTTP_PARSER_ERRNO(p);

	c->in_off += n;
	if (e == HPE_PAUSED) {
		if (c->state != CONN_OPEN)
			return;
		http_parser_pause(p, 0);
		c->handled = false;
		return;
	}
	if (e != HPE_OK) {
		if (!c->handled)
			conn_fail(c, http_errno_description(e));
		c->state = c->state == CONN_OPEN ? CONN_CLOSING : c->state;
		return;
	}
	/* An upgrade (or a stop with no progress): no more HTTP on this connection. */
	if ((p->upgrade || !n) && c->state == CONN_OPEN)
		c->state = CONN_CLOSING;
}

/* Sends what is queued; -EAGAIN while some is left. */
static int conn_flush(struct api_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = 0;
	return 0;
}

static void conn_watch(struct api_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	if (epoll_ctl(c->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		conn_close(c);
	c->events = events;
}

/*
 * Runs the connection as far as it goes without blocking, or for
 * API_READS_PER_TURN reads: then everything read is parsed and answered,
 * and epoll (level-triggered) comes back for what the socket still holds.
 */
static void conn_run(struct api_conn *c)
{
	unsigned reads = 0;

	for (;;) {
		int ret = conn_flush(c);
		ssize_t n;

		if (ret == -EAGAIN) {
			conn_watch(c, EPOLLOUT);
			return;
		}
		if (ret) {
			conn_close(c);
			return;
		}
		if (c->state == CONN_CLOSING) {
			shutdown(c->fd, SHUT_WR);
			c->state = CONN_LINGER;
			c->deadline_ms = now_ms() + API_LINGER_MS;
			conn_watch(c, EPOLLIN);
			if (c->state == CONN_DEAD)
				return;
		}
		if (c->state == CONN_OPEN && c->in_off < c->in_len) {
			conn_parse(c);
			continue;
		}
		if (reads++ == API_READS_PER_TURN) {
			conn_watch(c, EPOLLIN);
			return;
		}
		n = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_watch(c, EPOLLIN);
			return;
		}
		if (n <= 0) { /* EOF or an error: nothing more to answer */
			if (n == 0 && c->state == CONN_OPEN && c->parser.nread)
				log_debug("api", "a client hung up in the middle of a request");
			conn_close(c);
			return;
		}
		if (c->state == CONN_LINGER) {
			c->lingered += (size_t)n;
			if (c->lingered > API_LINGER_MAX_BYTES) {
				conn_close(c);
				return;
			}
			continue;
		}
		c->in_off = 0;
		c->in_len = (size_t)n;
		c->deadline_ms = now_ms() + API_IDLE_TIMEOUT_MS;
	}
}

/* Takes one connection off the backlog; false once it is empty. */
static bool accept_one(struct api_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct api_conn *c;
	unsigned slot;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0) {
		if (errno == EINTR || errno == ECONNABORTED)
			return true;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_err("api", "accept");
		return false;
	}
	if (s->nconns >= API_MAX_CONNECTIONS) {
		log_debug("api", "more than %d connections: one refused", API_MAX_CONNECTIONS);
		close(fd);
		return true;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return false;
	}
	c->srv = s;
	c->fd = fd;
	c->state = CONN_OPEN;
	c->events = EPOLLIN;
	c->deadline_ms = now_ms() + API_IDLE_TIMEOUT_MS;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	ev.data.ptr = c;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		log_err("api", "epoll_ctl");
		close(fd);
		free(c);
		return false;
	}
	for (slot = 0; s->conns[slot]; slot++)
		;
	s->conns[slot] = c;
	s->nconns++;
	return true;
}

static void expire(struct api_server *s)
{
	uint64_t now = now_ms();

	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++) {
		struct api_conn *c = s->conns[i];

		if (c && now >= c->deadline_ms) {
			if (c->state == CONN_OPEN)
				log_debug("api", "an idle connection timed out");
			conn_close(c);
		}
	}
}

static int next_timeout(const struct api_server *s)
{
	uint64_t now = now_ms(), first = UINT64_MAX;

	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		if (s->conns[i] && s->conns[i]->deadline_ms < first)
			first = s->conns[i]->deadline_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static void *server_thread(void *opaque)
{
	struct api_server *s = opaque;
	struct epoll_event evs[API_EPOLL_EVENTS];

	pthread_setname_np(pthread_self(), "api");
	vmm_seccomp_enter(VMM_SECCOMP_API, 0);
	for (;;) {
		int n = epoll_wait(s->epoll_fd, evs, API_EPOLL_EVENTS, next_timeout(s));

		if (n < 0 && errno != EINTR) {
			log_err("api", "epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct api_conn *c = evs[i].data.ptr;

			if (c == NULL)
				return NULL; /* the stop eventfd */
			if (c == (struct api_conn *)s) {
				for (unsigned k = 0; k < API_MAX_CONNECTIONS && accept_one(s); k++)
					;
				continue;
			}
			if (c->state != CONN_DEAD)
				conn_run(c);
		}
		expire(s);
		while (s->dead) {
			struct api_conn *d = s->dead;

			s->dead = d->next_dead;
			conn_free(d);
		}
	}
	return NULL;
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

static void server_free(struct api_server *s)
{
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		if (s->conns[i])
			conn_close(s->conns[i]);
	while (s->dead) {
		struct api_conn *d = s->dead;

		s->dead = d->next_dead;
		conn_free(d);
	}
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->path[0])
		unlink(s->path);
	free(s);
}

static int server_listen(struct api_server *s, const struct sockaddr_un *addr)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	ret = clear_stale_socket(addr);
	if (ret)
		return ret;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0) {
		log_err("api", "socket");
		return -errno;
	}
	if (bind(s->listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		ret = -errno;
		log_err("api", "cannot bind %s", addr->sun_path);
		return ret;
	}
	memcpy(s->path, addr->sun_path, sizeof(s->path));
	if (listen(s->listen_fd, API_LISTEN_BACKLOG) != 0) {
		ret = -errno;
		log_err("api", "cannot listen on %s", addr->sun_path);
		return ret;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epoll_fd < 0 || s->stop_fd < 0) {
		ret = -errno;
		log_err("api", "epoll/eventfd");
		return ret;
	}
	ev.data.ptr = s; /* the listening socket: the server itself */
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) != 0)
		goto fail_ctl;
	ev.data.ptr = NULL;
	if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->stop_fd, &ev) != 0)
		goto fail_ctl;
	return 0;
fail_ctl:
	ret = -errno;
	log_err("api", "epoll_ctl");
	return ret;
}

int api_server_start(const char *path, struct api_ctx *ctx, struct api_server **out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct api_server *s;
	int ret;

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
	s->listen_fd = s->epoll_fd = s->stop_fd = -1;
	http_parser_set_max_header_size(API_MAX_HEADERS);
	ret = server_listen(s, &addr);
	if (ret)
		goto fail;
	ret = -pthread_create(&s->thread, NULL, server_thread, s);
	if (ret) {
		log_errx("api", "cannot start the API thread: %s", strerror(-ret));
		goto fail;
	}
	s->thread_started = true;
	log_info("api", "listening on %s", path);
	*out = s;
	return 0;
fail:
	server_free(s);
	return ret;
}

void api_server_stop(struct api_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->thread_started) {
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_err("api", "cannot stop the API thread");
		else
			pthread_join(s->thread, NULL);
	}
	server_free(s);
}
