// SPDX-License-Identifier: Apache-2.0
/* The backend of a real VMM (backend_vmm.h). */
#include "api/backend_vmm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.h"
#include "base/metrics.h"
#include "loader/loader.h"
#include "snapshot/snapshot.h"
#include "migration/migration.h"
#include "virtio/balloon.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"
#include "vmm/vm_state.h"

int api_vmm_init(struct api_vmm *v)
{
	memset(v, 0, sizeof(*v));
	v->status = VM_EXIT_ERROR;
	v->done_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (v->done_efd < 0) {
		log_err("api", "eventfd");
		return -errno;
	}
	pthread_mutex_init(&v->lock, NULL);
	return 0;
}

bool api_vmm_started(struct api_vmm *v)
{
	bool s;

	pthread_mutex_lock(&v->lock);
	s = v->started;
	pthread_mutex_unlock(&v->lock);
	return s;
}

void api_vmm_request_exit(struct api_vmm *v, int status)
{
	pthread_mutex_lock(&v->lock);
	if (v->started)
		vm_request_exit(v->vm, status);
	pthread_mutex_unlock(&v->lock);
}

int api_vmm_finish(struct api_vmm *v)
{
	int status = v->status;

	if (v->started) {
		pthread_join(v->thread, NULL);
		status = v->status;
		log_info("api", "exit status %d after %.1f ms", status, log_ms_since_start());
	}
	migration_stop(v->vm);
	vm_destroy(v->vm);
	v->vm = NULL;
	if (v->loaded_cfg) {
		vm_config_free_strings(v->loaded_cfg);
		free(v->loaded_cfg);
		v->loaded_cfg = NULL;
	}
	if (v->metrics_on)
		metrics_shutdown();
	close(v->done_efd);
	pthread_mutex_destroy(&v->lock);
	return status;
}

static void *vmm_thread(void *arg)
{
	struct api_vmm *v = arg;
	uint64_t one = 1;

	pthread_setname_np(pthread_self(), "vmm");
	vmm_seccomp_enter(VMM_SECCOMP_VMM, 0);
	v->status = vm_run(v->vm);
	(void)!write(v->done_efd, &one, sizeof(one));
	return NULL;
}

static int be_start(void *opaque, const struct vm_config *cfg, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	struct vm *vm = NULL;
	int ret;

	ret = loader_check_readable("kernel", " ", cfg->kernel_path, err, errlen);
	if (!ret)
		ret = loader_check_readable("initrd", " ", cfg->initrd_path, err, errlen);
	for (unsigned i = 0; !ret && i < cfg->ndisks; i++)
		ret = loader_check_readable("drive", " ", cfg->disks[i].path, err, errlen);
	if (ret)
		return ret;
	ret = vm_create(cfg, &vm);
	if (ret) {
		snprintf(err, errlen, "cannot build the machine: %s (details in osprey's log)",
			 strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&v->lock);
	v->vm = vm;
	ret = pthread_create(&v->thread, NULL, vmm_thread, v);
	if (ret) {
		v->vm = NULL;
		pthread_mutex_unlock(&v->lock);
		vm_destroy(vm);
		snprintf(err, errlen, "cannot start the VMM thread: %s", strerror(ret));
		return -ret;
	}
	v->started = true;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static int be_snapshot_create(void *opaque, const struct snapshot_create_params *p, char *err,
			      size_t errlen)
{
	struct api_vmm *v = opaque;
	struct snapshot_stats st = { 0 };
	int ret;

	ret = snapshot_create(v->vm, p, &st, err, errlen);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	log_info("api", "%s snapshot: %s (%llu bytes), %s (%llu pages) in %.3f ms",
		 p->type == SNAPSHOT_DIFF ? "diff" : "full", p->state_path,
		 (unsigned long long)st.state_bytes, p->mem_path,
		 (unsigned long long)st.mem_pages_written, (double)st.elapsed_ns / 1e6);
	return 0;
}

static int be_snapshot_load(void *opaque, const struct snapshot_load_params *p,
			    const struct vm_config **cfg, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	struct vm_config *loaded = NULL;
	struct vm *vm = NULL;
	int ret;

	ret = snapshot_load(p, &loaded, &vm, err, errlen);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&v->lock);
	v->vm = vm;
	v->loaded_cfg = loaded;
	ret = pthread_create(&v->thread, NULL, vmm_thread, v);
	if (ret) {
		v->vm = NULL;
		v->loaded_cfg = NULL;
		pthread_mutex_unlock(&v->lock);
		vm_destroy(vm);
		vm_config_free_strings(loaded);
		free(loaded);
		snprintf(err, errlen, "cannot start the VMM thread: %s", strerror(ret));
		return -ret;
	}
	v->started = true;
	pthread_mutex_unlock(&v->lock);
	*cfg = loaded;
	log_info("api", "snapshot %s loaded (%s) at %.1f ms", p->state_path,
		 p->resume ? "running" : "paused", log_ms_since_start());
	return 0;
}

static int run_state_error(int ret, char *err, size_t errlen)
{
	if (ret == -ESRCH)
		snprintf(err, errlen, "the microVM has stopped");
	else if (ret == -EALREADY)
		snprintf(err, errlen, "the microVM is already in that state");
	else
		snprintf(err, errlen, "%s", strerror(-ret));
	return ret;
}

/* The migration pauses and resumes the machine itself: no one else may meanwhile. */
static bool migrating(struct api_vmm *v, char *err, size_t errlen)
{
	struct migration_status st;

	migration_get_status(v->vm, &st);
	if (st.phase != MIGRATION_ACTIVE)
		return false;
	snprintf(err, errlen, "a live migration is in progress (PUT /migrate/cancel)");
	return true;
}

static int be_pause(void *opaque, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret;

	if (migrating(v, err, errlen))
		return -EBUSY;
	ret = vm_pause(v->vm);

	if (ret)
		return run_state_error(ret, err, errlen);
	log_info("api", "paused");
	return 0;
}

static int be_resume(void *opaque, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret;

	if (migrating(v, err, errlen))
		return -EBUSY;
	ret = vm_resume(v->vm);

	if (ret)
		return run_state_error(ret, err, errlen);
	log_info("api", "resumed");
	return 0;
}

static int be_ctrl_alt_del(void *opaque, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;

	if (!v->vm->ctrl_alt_del) {
		snprintf(err, errlen, "the machine has no i8042 keyboard controller");
		return -ENODEV;
	}
	v->vm->ctrl_alt_del(v->vm->ctrl_alt_del_opaque);
	return 0;
}

static int be_balloon_set_target(void *opaque, uint64_t bytes, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret = virtio_balloon_set_target(v->vm->balloon, bytes);

	if (ret == -ENODEV)
		snprintf(err, errlen, "the machine has no balloon device");
	else if (ret)
		snprintf(err, errlen, "cannot set the balloon target: %s", strerror(-ret));
	return ret;
}

static int be_balloon_get_stats(void *opaque, struct virtio_balloon_stats *out, char *err,
				size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret = virtio_balloon_get_stats(v->vm->balloon, out);

	if (ret)
		snprintf(err, errlen, "cannot read the balloon statistics: %s", strerror(-ret));
	return ret;
}

static int be_update_disk(void *opaque, const char *id, const char *path,
			  const struct rate_limiter_config *rl, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;

	return vm_update_disk(v->vm, id, path, rl, err, errlen);
}

static int be_update_net(void *opaque, const char *id, const struct rate_limiter_config *rx,
			 const struct rate_limiter_config *tx, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;

	return vm_update_net(v->vm, id, rx, tx, err, errlen);
}

static int be_configure_logger(void *opaque, const struct api_logger_config *lc, char *err,
			       size_t errlen)
{
	(void)opaque;
	return log_configure(lc->log_path, lc->level, lc->show_level, lc->show_log_origin,
			     lc->module, err, errlen);
}

static int be_init_metrics(void *opaque, const char *path, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret = metrics_init(path, err, errlen);

	if (!ret)
		v->metrics_on = true;
	return ret;
}

static int be_flush_metrics(void *opaque, char *err, size_t errlen)
{
	int ret;

	(void)opaque;
	ret = metrics_flush();
	if (ret == -ENOENT)
		snprintf(err, errlen, "the metrics system is not initialised");
	else if (ret)
		snprintf(err, errlen, "cannot write the metrics: %s", strerror(-ret));
	return ret;
}

static const char *be_accel_name(void *opaque)
{
	struct api_vmm *v = opaque;
	const char *name = NULL;

	pthread_mutex_lock(&v->lock);
	if (v->started && v->vm && v->vm->accel)
		name = v->vm->accel->name;
	pthread_mutex_unlock(&v->lock);
	return name;
}

static int be_migrate_start(void *opaque, const struct migration_params *p, char *err,
			    size_t errlen)
{
	struct api_vmm *v = opaque;

	return migration_start(v->vm, p, err, errlen);
}

static int be_migrate_cancel(void *opaque, char *err, size_t errlen)
{
	struct api_vmm *v = opaque;
	int ret = migration_cancel(v->vm);

	if (ret == -ESRCH)
		snprintf(err, errlen, "no migration is in progress");
	return ret;
}

static void be_migrate_status(void *opaque, struct migration_status *st)
{
	struct api_vmm *v = opaque;

	migration_get_status(v->vm, st);
}

const struct api_backend api_vmm_backend = {
	.start = be_start,
	.pause = be_pause,
	.resume = be_resume,
	.ctrl_alt_del = be_ctrl_alt_del,
	.balloon_set_target = be_balloon_set_target,
	.balloon_get_stats = be_balloon_get_stats,
	.update_disk = be_update_disk,
	.update_net = be_update_net,
	.configure_logger = be_configure_logger,
	.init_metrics = be_init_metrics,
	.flush_metrics = be_flush_metrics,
	.snapshot_create = be_snapshot_create,
	.snapshot_load = be_snapshot_load,
	.migrate_start = be_migrate_start,
	.migrate_cancel = be_migrate_cancel,
	.migrate_status = be_migrate_status,
	.accel_name = be_accel_name,
};
