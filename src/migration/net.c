// SPDX-License-Identifier: Apache-2.0
/* Migration endpoints: "unix:PATH" and "tcp:HOST:PORT" to sockets (net.h). */
#include "migration/net.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Socket buffers are kept small so that little of the stream waits in
 * them: at the stop-and-copy the destination must not still be working
 * through a backlog of earlier rounds, which would count as downtime.
 */
#define MIG_SOCK_BUF (256 * 1024)

static void small_buffers(int fd)
{
	int v = MIG_SOCK_BUF;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

static int parse_tcp(const char *rest, char *host, size_t hostlen, char *port, size_t portlen,
		     char *err, size_t errlen)
{
	const char *colon = strrchr(rest, ':');
	size_t hl;

	if (!colon || !colon[1] || strlen(colon + 1) >= portlen) {
		snprintf(err, errlen, "'tcp:%.100s': expected tcp:HOST:PORT", rest);
		return -EINVAL;
	}
	hl = (size_t)(colon - rest);
	if (rest[0] == '[' && hl >= 2 && rest[hl - 1] == ']') {
		rest++;
		hl -= 2;
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "host name too long in 'tcp:%.100s'", rest);
		return -EINVAL;
	}
	memcpy(host, rest, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa, char *err, size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sa->sun_path)) {
		snprintf(err, errlen, "unix socket path '%.120s' empty or too long", path);
		return -EINVAL;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int mig_uri_check(const char *uri, char *err, size_t errlen)
{
	char host[256], port[32];
	struct sockaddr_un sa;

	if (!strncmp(uri, "unix:", 5))
		return unix_addr(uri + 5, &sa, err, errlen);
	if (!strncmp(uri, "tcp:", 4))
		return parse_tcp(uri + 4, host, sizeof(host), port, sizeof(port), err, errlen);
	snprintf(err, errlen, "migration URI '%.120s': expected unix:PATH or tcp:HOST:PORT", uri);
	return -EINVAL;
}

static int tcp_resolve(const char *uri, struct addrinfo **res, bool passive, char *err,
		       size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char host[256], port[32];
	int ret;

	ret = parse_tcp(uri + 4, host, sizeof(host), port, sizeof(port), err, errlen);
	if (ret)
		return ret;
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	ret = getaddrinfo(*host ? host : NULL, port, &hints, res);
	if (ret) {
		snprintf(err, errlen, "%s: %s", uri, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	return 0;
}

/* One end of a migration: the source connects, the destination listens. */
static int mig_open(const char *uri, bool passive, char *err, size_t errlen)
{
	const char *verb = passive ? "listen on" : "connect to";
	struct addrinfo *res, *ai;
	int fd = -1, one = 1, ret = mig_uri_check(uri, err, errlen);

	if (ret)
		return ret;
	if (!strncmp(uri, "unix:", 5)) {
		struct sockaddr_un sa;
		bool ok;

		unix_addr(uri + 5, &sa, err, errlen);
		if (passive)
			(void)unlink(sa.sun_path); /* a stale socket of an earlier run */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !passive)
			small_buffers(fd);
		if (passive)
			ok = fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(fd, 1);
		else
			ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		if (!ok) {
			ret = -errno;
			snprintf(err, errlen, "cannot %s %s: %s", verb, uri, strerror(errno));
			if (fd >= 0)
				close(fd);
			return ret;
		}
		return fd;
	}
	ret = tcp_resolve(uri, &res, passive, err, errlen);
	if (ret)
		return ret;
	ret = passive ? -EADDRNOTAVAIL : -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (passive)
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		small_buffers(fd); /* a listener's are inherited by the accepted socket */
		if (passive ? !bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 1) :
			      !connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot %s %s: %s", verb, uri, strerror(-ret));
		return ret;
	}
	return fd;
}

int mig_connect(const char *uri, char *err, size_t errlen)
{
	return mig_open(uri, false, err, errlen);
}

int mig_listen(const char *uri, char *err, size_t errlen)
{
	return mig_open(uri, true, err, errlen);
}

void mig_unlisten(const char *uri, int fd)
{
	if (fd >= 0)
		close(fd);
	if (!strncmp(uri, "unix:", 5) && uri[5])
		(void)unlink(uri + 5);
}
