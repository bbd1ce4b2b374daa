// SPDX-License-Identifier: Apache-2.0
/* The "api_server" metrics group (metrics.h). */
#include "base/metrics.h"

struct metrics_api_server metrics_api_server;

static const struct metrics_field api_fields[] = {
	METRICS_FIELD(struct metrics_api_server, requests),
	METRICS_FIELD(struct metrics_api_server, latency_us_sum),
	METRICS_FIELD(struct metrics_api_server, latency_us_max),
	METRICS_FIELD(struct metrics_api_server, status_2xx),
	METRICS_FIELD(struct metrics_api_server, status_4xx),
	METRICS_FIELD(struct metrics_api_server, status_5xx),
};

void metrics_api_request(uint64_t usec, unsigned status)
{
	struct metrics_api_server *m = &metrics_api_server;

	metrics_inc(&m->requests);
	metrics_add(&m->latency_us_sum, usec);
	metrics_max(&m->latency_us_max, usec);
	if (status >= 200 && status < 300)
		metrics_inc(&m->status_2xx);
	else if (status >= 400 && status < 500)
		metrics_inc(&m->status_4xx);
	else if (status >= 500)
		metrics_inc(&m->status_5xx);
}

/* Process-wide, like Firecracker's: present in every line from the start. */
__attribute__((constructor)) static void metrics_api_register(void)
{
	(void)metrics_register("api_server", api_fields,
			       sizeof(api_fields) / sizeof(api_fields[0]), &metrics_api_server);
}
