/* SPDX-License-Identifier: Apache-2.0 */
/* A small epoll loop: file descriptors with callbacks, run on one thread. */
#ifndef OSPREY_BASE_EVENT_LOOP_H
#define OSPREY_BASE_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_cb)(void *opaque, uint32_t events);

struct event_loop;

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);

/* events: EPOLLIN etc. -errno on failure. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_cb cb, void *opaque);
int event_loop_modify(struct event_loop *loop, int fd, uint32_t events);
int event_loop_remove(struct event_loop *loop, int fd);

/* Waits up to timeout_ms (-1: forever) and dispatches; returns events handled. */
int event_loop_run_once(struct event_loop *loop, int timeout_ms);

#endif
