// SPDX-License-Identifier: Apache-2.0
/* Metrics (metrics.h). PLACEHOLDER until the metrics work lands. */
#include "base/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct metrics_group {
	int unused;
};

struct metrics_group *metrics_register(const char *name, const struct metrics_field *fields,
				       size_t nfields, const void *base)
{
	(void)name;
	(void)fields;
	(void)nfields;
	(void)base;
	return calloc(1, sizeof(struct metrics_group));
}

void metrics_unregister(struct metrics_group *g)
{
	free(g);
}

int metrics_init(const char *path, char *err, size_t errlen)
{
	(void)path;
	snprintf(err, errlen, "metrics are not implemented yet");
	return -ENOSYS;
}

int metrics_flush(void)
{
	return -ENOENT;
}

char *metrics_render(void)
{
	return strdup("{}");
}

void metrics_shutdown(void)
{
}
