/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the API asks of a VMM (api.h): the operations behind InstanceStart
 * and the run-time requests. A NULL backend (a "dry" context) makes every
 * operation succeed without a machine.
 *
 * Every operation returns 0 or -errno and then fills err (a message for
 * the fault_message of a 400 answer). They are called from the thread
 * that calls api_handle(), one at a time.
 */
#ifndef OSPREY_API_BACKEND_H
#define OSPREY_API_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "base/rate_limiter.h"
#include "migration/migration.h"
#include "vmm/config.h"

struct virtio_balloon_stats;
struct snapshot_create_params;
struct snapshot_load_params;

/* PUT /logger, as parsed (see log_configure() in base/log.h). */
struct api_logger_config {
	const char *level;    /* Error ... Trace, Off; NULL: keep the level */
	const char *log_path; /* NULL: keep the destination */
	int show_level, show_log_origin;
	const char *module; /* only lines of this module (and errors); NULL: all */
};

struct api_backend {
	/*
	 * Builds the machine from cfg and starts it on its own thread. cfg
	 * stays valid and unchanged until the API context is destroyed.
	 */
	int (*start)(void *opaque, const struct vm_config *cfg, char *err, size_t errlen);
	/* Parks every vCPU and returns once all are parked; resume undoes it. */
	int (*pause)(void *opaque, char *err, size_t errlen);
	int (*resume)(void *opaque, char *err, size_t errlen);
	int (*ctrl_alt_del)(void *opaque, char *err, size_t errlen);
	/* virtio/balloon.h */
	int (*balloon_set_target)(void *opaque, uint64_t bytes, char *err, size_t errlen);
	int (*balloon_get_stats)(void *opaque, struct virtio_balloon_stats *out, char *err,
				 size_t errlen);
	/* vm_update_disk() / vm_update_net() (vm.h) */
	int (*update_disk)(void *opaque, const char *id, const char *path_on_host,
			   const struct rate_limiter_config *rl, char *err, size_t errlen);
	int (*update_net)(void *opaque, const char *id, const struct rate_limiter_config *rx,
			  const struct rate_limiter_config *tx, char *err, size_t errlen);
	/* Process-wide services: base/log_config.c, base/metrics.h. */
	int (*configure_logger)(void *opaque, const struct api_logger_config *lc, char *err,
				size_t errlen);
	int (*init_metrics)(void *opaque, const char *path, char *err, size_t errlen);
	int (*flush_metrics)(void *opaque, char *err, size_t errlen);
	/*
	 * Snapshots (snapshot/snapshot.h). create: the paused machine to its
	 * files. load: a machine from files instead of InstanceStart, run on
	 * the VMM thread (parked unless p->resume); *cfg is the configuration
	 * it runs, valid until the context is destroyed.
	 */
	int (*snapshot_create)(void *opaque, const struct snapshot_create_params *p, char *err,
			       size_t errlen);
	int (*snapshot_load)(void *opaque, const struct snapshot_load_params *p,
			     const struct vm_config **cfg, char *err, size_t errlen);
	/* The accelerator the started machine runs on ("kvm", "soft"); may be NULL. */
	const char *(*accel_name)(void *opaque);
	/* Live migration (migration/migration.h); NULL: not offered. */
	int (*migrate_start)(void *opaque, const struct migration_params *p, char *err,
			     size_t errlen);
	int (*migrate_cancel)(void *opaque, char *err, size_t errlen);
	void (*migrate_status)(void *opaque, struct migration_status *st);
};

#endif
