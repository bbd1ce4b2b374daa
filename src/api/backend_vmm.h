/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API backend of a real VMM process (osprey --api-sock): InstanceStart
 * builds the machine with vm_create() and runs vm_run() on a VMM thread;
 * run-time requests act on that machine.
 */
#ifndef OSPREY_API_BACKEND_VMM_H
#define OSPREY_API_BACKEND_VMM_H

#include <pthread.h>
#include <stdbool.h>

#include "api/backend.h"

struct vm;
struct vm_config;

struct api_vmm {
	pthread_mutex_t lock; /* vm and started, read from the main thread */
	struct vm *vm;
	pthread_t thread;
	bool started;
	bool metrics_on;
	int done_efd; /* becomes readable when vm_run() has returned */
	int status;   /* vm_run()'s result (the process exit status) */
	/* The configuration of a machine made by a snapshot load (vm_config_read's). */
	struct vm_config *loaded_cfg;
};

extern const struct api_backend api_vmm_backend;

/* -errno on failure (logged). */
int api_vmm_init(struct api_vmm *v);
bool api_vmm_started(struct api_vmm *v);
/* Ends a running machine with status (signals); no-op before start. */
void api_vmm_request_exit(struct api_vmm *v, int status);
/*
 * After done_efd fired (or when nothing was started): joins the VMM
 * thread, destroys the machine, releases the rest. Returns the status.
 */
int api_vmm_finish(struct api_vmm *v);

#endif
