/* SPDX-License-Identifier: Apache-2.0 */
/* Migration endpoints: "unix:PATH" or "tcp:HOST:PORT" (migration.h) to sockets. */
#ifndef OSPREY_MIGRATION_NET_H
#define OSPREY_MIGRATION_NET_H

#include <stdbool.h>
#include <stddef.h>

/* 0 when uri has one of the two forms, -EINVAL with a message. */
int mig_uri_check(const char *uri, char *err, size_t errlen);
/* A connected stream socket, or -errno with a message. */
int mig_connect(const char *uri, char *err, size_t errlen);
/*
 * A listening socket (unix: a stale socket file is removed first; tcp:
 * SO_REUSEADDR), or -errno with a message.
 */
int mig_listen(const char *uri, char *err, size_t errlen);
/* Closes the listening socket and removes a unix socket file. */
void mig_unlisten(const char *uri, int fd);

#endif
