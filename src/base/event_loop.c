// SPDX-License-Identifier: Apache-2.0
#include "base/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENT_LOOP_MAX_HANDLERS 64

struct event_handler {
	int fd;
	event_cb cb;
	void *opaque;
};

struct event_loop {
	int epfd;
	struct event_handler handlers[EVENT_LOOP_MAX_HANDLERS];
};

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	for (int i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
		loop->handlers[i].fd = -1;
	return loop;
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop);
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_cb cb, void *opaque)
{
	struct epoll_event ev = { .events = events };

	for (int i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++) {
		struct event_handler *h = &loop->handlers[i];

		if (h->fd != -1)
			continue;
		ev.data.ptr = h;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		h->fd = fd;
		h->cb = cb;
		h->opaque = opaque;
		return 0;
	}
	return -ENOSPC;
}

static struct event_handler *event_loop_find(struct event_loop *loop, int fd)
{
	for (int i = 0; i < EVENT_LOOP_MAX_HANDLERS; i++)
		if (loop->handlers[i].fd == fd)
			return &loop->handlers[i];
	return NULL;
}

int event_loop_modify(struct event_loop *loop, int fd, uint32_t events)
{
	struct event_handler *h = event_loop_find(loop, fd);
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int event_loop_remove(struct event_loop *loop, int fd)
{
	struct event_handler *h = event_loop_find(loop, fd);

	if (!h)
		return -ENOENT;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	h->fd = -1;
	return 0;
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(loop->epfd, evs, 16, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct event_handler *h = evs[i].data.ptr;

		if (h->fd >= 0)
			h->cb(h->opaque, evs[i].events);
	}
	return n;
}
