/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host side of the guest console: where guest output goes (stdout, a
 * file, nowhere) and where input comes from (stdin, raw mode when it is a
 * terminal, restored on exit). On a terminal, Ctrl-A is the escape key:
 * Ctrl-A x quits, Ctrl-A d sends Ctrl-Alt-Del, Ctrl-A b prints the
 * balloon's state, Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A h prints help.
 */
#ifndef OSPREY_VMM_CONSOLE_H
#define OSPREY_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "hw/device_env.h"
#include "vmm/config.h"

struct vm;

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */
#define CONSOLE_PENDING_MAX 512

struct console {
	struct vm *vm;
	int out_fd;
	bool own_out_fd;
	int in_fd;
	bool in_is_tty;
	bool in_paused;
	bool saw_escape;
	console_sink_fn sink;
	void *sink_opaque;
	uint8_t pending[CONSOLE_PENDING_MAX];
	size_t npending;
	int ready_efd; /* the sink signals free space here */
};

enum console_action {
	CONSOLE_ACT_NONE,
	CONSOLE_ACT_QUIT,
	CONSOLE_ACT_CAD,
	CONSOLE_ACT_HELP,
	CONSOLE_ACT_BALLOON,
};

int console_open(struct console *c, struct vm *vm, enum console_mode mode, const char *path);
void console_close(struct console *c);
/* Guest output. Thread-safe (one write call per chunk). */
void console_write(struct console *c, const uint8_t *buf, size_t len);
void console_set_sink(struct console *c, console_sink_fn sink, void *opaque);
/* The sink calls this when it has room again. */
void console_sink_ready(struct console *c);
/* The device side of c (hw/device_env.h): callbacks on c. */
void console_device_port(struct console *c, struct device_console *out);
/* Registers stdin with the VM's event loop. */
int console_attach(struct console *c);

/*
 * Escape processing (exposed for unit tests): filters buf in place,
 * returns the number of bytes left for the guest and the first action.
 */
size_t console_filter_input(bool *saw_escape, uint8_t *buf, size_t len,
			    enum console_action *action);

/* Terminal raw mode, restored at exit and on fatal signals. */
void console_tty_raw(int fd);
void console_tty_restore(void);

#endif
