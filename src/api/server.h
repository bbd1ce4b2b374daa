/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's HTTP/1.1 server on a Unix socket (http-parser and an epoll
 * loop on a thread of its own): every request goes to api_handle() on
 * one context.
 */
#ifndef OSPREY_API_SERVER_H
#define OSPREY_API_SERVER_H

struct api_ctx;
struct api_server;

/*
 * Binds and listens on `path` (a stale socket file nobody listens on is
 * replaced; a socket in use or any other file is refused) and serves
 * requests on ctx from a thread of its own. Logs once and returns -errno
 * on failure.
 */
int api_server_start(const char *path, struct api_ctx *ctx, struct api_server **out);
/* Stops serving, closes and removes the socket. NULL is a no-op. */
void api_server_stop(struct api_server *s);

#endif
