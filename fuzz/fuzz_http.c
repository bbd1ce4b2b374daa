// SPDX-License-Identifier: Apache-2.0
/*
 * The API's HTTP server (src/api/server.c) over its real Unix socket: for
 * each input a server on a fresh dry API context (no VM) is started, the
 * input is sent as the bytes of one connection (any number of requests,
 * pipelined, well formed or not), the writing side is shut, and the
 * answer is read to its end. The server must close the connection (no
 * hang: 5 s at most), and what it wrote must be a sequence of well-formed
 * HTTP/1.1 responses (checked with http-parser; an input with HEAD in it
 * is checked only for its first status line, as the answers to HEAD carry
 * a Content-Length but no body). Then the server is stopped: with ASan
 * and LeakSanitizer, nothing of a connection may leak.
 */
#include <errno.h>
#include <http_parser.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "api/server.h"
#include "base/log.h"

#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_OUTPUT (1024 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sock_path[108];
static char *out;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	snprintf(sock_path, sizeof(sock_path), "/tmp/osprey-fuzz-http.%d.sock", (int)getpid());
	out = malloc(FUZZ_MAX_OUTPUT);
	if (!out)
		abort();
	return 0;
}

static int on_status_line_ok(http_parser *p)
{
	(void)p;
	return 0;
}

/* Reads until EOF; aborts when the server keeps the connection open. */
static size_t read_answer(int fd)
{
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) == 0) {
			fprintf(stderr, "fuzz_http: the server did not close the connection\n");
			abort();
		}
		n = recv(fd, out + len, FUZZ_MAX_OUTPUT - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return len;
		len += (size_t)n;
		if (len == FUZZ_MAX_OUTPUT) {
			fprintf(stderr, "fuzz_http: more than %d bytes of answers\n",
				FUZZ_MAX_OUTPUT);
			abort();
		}
	}
}

static void check_answer(const uint8_t *data, size_t size, size_t len)
{
	static const http_parser_settings settings = { .on_message_complete = on_status_line_ok };
	http_parser p;
	size_t n;

	if (!len)
		return;
	if (len < 9 || memcmp(out, "HTTP/1.1 ", 9) != 0) {
		fprintf(stderr, "fuzz_http: the answer does not start with a status line\n");
		abort();
	}
	if (memmem(data, size, "HEAD", 4))
		return;
	http_parser_init(&p, HTTP_RESPONSE);
	n = http_parser_execute(&p, &settings, out, len);
	if (n != len || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
		fprintf(stderr, "fuzz_http: malformed answer at byte %zu of %zu: %s\n", n, len,
			http_errno_description(HTTP_PARSER_ERRNO(&p)));
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct api_server *srv = NULL;
	struct api_ctx *ctx;
	size_t len;
	int fd;

	if (size > FUZZ_MAX_INPUT)
		return -1;
	ctx = api_ctx_create(NULL, NULL);
	if (!ctx || api_server_start(sock_path, ctx, &srv))
		abort();
	memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0)
		abort();
	/* As much as the socket takes at once; the server may stop reading early. */
	if (size && send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EPIPE &&
	    errno != ECONNRESET && errno != EAGAIN)
		abort();
	shutdown(fd, SHUT_WR);
	len = read_answer(fd);
	close(fd);
	check_answer(data, size, len);
	api_server_stop(srv);
	api_ctx_destroy(ctx);
	return 0;
}
