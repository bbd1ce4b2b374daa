// SPDX-License-Identifier: Apache-2.0
#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/event_loop.h"
#include "base/log.h"
#include "vmm/vm.h"

static struct termios saved_tio;
static int saved_tio_fd = -1;

void console_tty_restore(void)
{
	if (saved_tio_fd >= 0) {
		tcsetattr(saved_tio_fd, TCSANOW, &saved_tio);
		saved_tio_fd = -1;
	}
}

void console_tty_raw(int fd)
{
	struct termios tio;

	if (saved_tio_fd >= 0 || tcgetattr(fd, &saved_tio) < 0)
		return;
	saved_tio_fd = fd;
	atexit(console_tty_restore);
	tio = saved_tio;
	cfmakeraw(&tio);
	tio.c_oflag |= OPOST | ONLCR; /* keep newline translation for our own messages */
	tcsetattr(fd, TCSANOW, &tio);
}

size_t console_filter_input(bool *saw_escape, uint8_t *buf, size_t len,
			    enum console_action *action)
{
	size_t out = 0;

	*action = CONSOLE_ACT_NONE;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (*saw_escape) {
			*saw_escape = false;
			switch (b) {
			case 'x':
			case 'X':
				if (*action == CONSOLE_ACT_NONE)
					*action = CONSOLE_ACT_QUIT;
				continue;
			case 'd':
			case 'D':
				if (*action == CONSOLE_ACT_NONE)
					*action = CONSOLE_ACT_CAD;
				continue;
			case 'b':
			case 'B':
				if (*action == CONSOLE_ACT_NONE)
					*action = CONSOLE_ACT_BALLOON;
				continue;
			case 'h':
			case 'H':
			case '?':
				if (*action == CONSOLE_ACT_NONE)
					*action = CONSOLE_ACT_HELP;
				continue;
			case CONSOLE_ESCAPE:
				buf[out++] = b;
				continue;
			default:
				continue; /* unknown escape: swallowed */
			}
		}
		if (b == CONSOLE_ESCAPE) {
			*saw_escape = true;
			continue;
		}
		buf[out++] = b;
	}
	return out;
}

int console_open(struct console *c, struct vm *vm, enum console_mode mode, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->in_fd = -1;
	c->ready_efd = -1;
	switch (mode) {
	case CONSOLE_STDIO:
		c->out_fd = STDOUT_FILENO;
		c->in_fd = STDIN_FILENO;
		c->in_is_tty = isatty(STDIN_FILENO);
		break;
	case CONSOLE_FILE:
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			int err = -errno;

			log_err("console", "cannot open console file %s", path);
			return err;
		}
		c->own_out_fd = true;
		break;
	case CONSOLE_NONE:
		c->out_fd = -1;
		break;
	}
	return 0;
}

void console_close(struct console *c)
{
	if (c->own_out_fd && c->out_fd >= 0)
		close(c->out_fd);
	if (c->ready_efd >= 0)
		close(c->ready_efd);
	c->out_fd = -1;
	c->ready_efd = -1;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	while (c->out_fd >= 0 && len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* output closed: drop, never stall the guest */
		buf += n;
		len -= (size_t)n;
	}
}

void console_set_sink(struct console *c, console_sink_fn sink, void *opaque)
{
	c->sink = sink;
	c->sink_opaque = opaque;
}

void console_sink_ready(struct console *c)
{
	uint64_t one = 1;

	/*
	 * Unconditional: the sink may run on another thread and call this
	 * before the main loop has marked stdin paused; a spurious wake-up
	 * only flushes an empty pending buffer.
	 */
	if (c->ready_efd >= 0)
		(void)!write(c->ready_efd, &one, sizeof(one));
}

static void port_write(void *opaque, const uint8_t *buf, size_t len)
{
	console_write(opaque, buf, len);
}

static void port_set_sink(void *opaque, console_sink_fn sink, void *sink_opaque)
{
	console_set_sink(opaque, sink, sink_opaque);
}

static void port_sink_ready(void *opaque)
{
	console_sink_ready(opaque);
}

void console_device_port(struct console *c, struct device_console *out)
{
	*out = (struct device_console){
		.opaque = c,
		.write = port_write,
		.set_sink = port_set_sink,
		.sink_ready = port_sink_ready,
	};
}

static void console_help(struct console *c)
{
	static const char help[] = "\r\nosprey console escapes: Ctrl-A x quit, Ctrl-A d send "
				   "Ctrl-Alt-Del, Ctrl-A b balloon state, Ctrl-A Ctrl-A send "
				   "Ctrl-A, Ctrl-A h help\r\n";

	(void)!write(STDERR_FILENO, help, sizeof(help) - 1);
	(void)c;
}

/* Hands pending input to the sink; pauses stdin while the sink is full. */
static void console_flush_pending(struct console *c)
{
	size_t n = 0;

	if (c->sink && c->npending)
		n = c->sink(c->sink_opaque, c->pending, c->npending);
	if (n < c->npending) {
		memmove(c->pending, c->pending + n, c->npending - n);
		c->npending -= n;
		if (!c->in_paused && c->in_fd >= 0) {
			c->in_paused = true;
			event_loop_modify(c->vm->loop, c->in_fd, 0);
		}
	} else {
		c->npending = 0;
		if (c->in_paused && c->in_fd >= 0) {
			c->in_paused = false;
			event_loop_modify(c->vm->loop, c->in_fd, EPOLLIN);
		}
	}
}

static void console_on_input(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	enum console_action act = CONSOLE_ACT_NONE;
	ssize_t n;

	n = read(c->in_fd, c->pending + c->npending, sizeof(c->pending) - c->npending);
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		/* EOF or error on stdin: stop reading, keep the guest running. */
		event_loop_remove(c->vm->loop, c->in_fd);
		c->in_fd = -1;
		(void)events;
		return;
	}
	if (c->in_is_tty) {
		size_t kept = console_filter_input(&c->saw_escape, c->pending + c->npending,
						   (size_t)n, &act);
		c->npending += kept;
	} else {
		c->npending += (size_t)n;
	}
	switch (act) {
	case CONSOLE_ACT_QUIT:
		log_info("console", "quit requested from the console");
		vm_request_exit(c->vm, VM_EXIT_POWEROFF);
		return;
	case CONSOLE_ACT_CAD:
		if (c->vm->ctrl_alt_del)
			c->vm->ctrl_alt_del(c->vm->ctrl_alt_del_opaque);
		break;
	case CONSOLE_ACT_HELP:
		console_help(c);
		break;
	case CONSOLE_ACT_BALLOON:
		if (c->vm->balloon_report) {
			c->vm->balloon_report(c->vm->balloon);
		} else {
			static const char none[] = "\r\nosprey: no balloon device (--balloon)\r\n";

			(void)!write(STDERR_FILENO, none, sizeof(none) - 1);
		}
		break;
	case CONSOLE_ACT_NONE:
		break;
	}
	console_flush_pending(c);
}

static void console_on_ready(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint64_t v;

	(void)events;
	(void)!read(c->ready_efd, &v, sizeof(v));
	/* After end of file on stdin, what was read before still goes in. */
	if (c->in_fd >= 0 || c->npending)
		console_flush_pending(c);
}

int console_attach(struct console *c)
{
	int ret;

	if (c->in_fd < 0 || !c->sink)
		return 0;
	c->ready_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->ready_efd < 0)
		return -errno;
	ret = event_loop_add(c->vm->loop, c->ready_efd, EPOLLIN, console_on_ready, c);
	if (ret)
		return ret;
	if (c->in_is_tty)
		console_tty_raw(c->in_fd);
	ret = event_loop_add(c->vm->loop, c->in_fd, EPOLLIN, console_on_input, c);
	if (ret == -EPERM) {
		/* stdin is a regular file or /dev/null: epoll can't watch it. */
		c->in_fd = -1;
		return 0;
	}
	return ret;
}
