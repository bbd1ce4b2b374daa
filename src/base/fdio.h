/* SPDX-License-Identifier: Apache-2.0 */
/* Writes to files and pipes whose reader may go away. */
#ifndef OSPREY_BASE_FDIO_H
#define OSPREY_BASE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * write(2), retried on EINTR, with SIGPIPE kept from the process: a pipe
 * without a reader gives -1 / EPIPE and no signal, whatever the process's
 * SIGPIPE disposition.
 */
ssize_t write_nosigpipe(int fd, const void *buf, size_t len);

#endif
