// SPDX-License-Identifier: Apache-2.0
/*
 * InstanceStart's view of the configuration: a deep copy of what the
 * requests built (the machine keeps pointing at it while later requests
 * change the context's own copy), with Firecracker's boot semantics:
 *
 *  - boot_args, when given, replace osprey's default parameters; osprey
 *    still adds its device parameters (virtio_mmio.device=..., and
 *    osprey.pv=1 for its power-off port) and the CPU template's.
 *  - the drive with is_root_device becomes the first drive (/dev/vda) and
 *    adds root=/dev/vda (or root=PARTUUID=...) and ro or rw.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

#define API_PV_PARAM "osprey.pv=1"

static const char *dup_str(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

void api_boot_config_free(struct vm_config *b)
{
	if (!b)
		return;
	api_str_free(&b->kernel_path);
	api_str_free(&b->initrd_path);
	api_str_free(&b->cmdline);
	api_str_free(&b->cpu_template);
	api_str_free(&b->accel);
	api_str_free(&b->console_path);
	for (unsigned i = 0; i < VM_MAX_DISKS; i++) {
		api_str_free(&b->disks[i].path);
		api_str_free(&b->disks[i].id);
	}
	for (unsigned i = 0; i < VM_MAX_NETS; i++) {
		api_str_free(&b->nets[i].tap);
		api_str_free(&b->nets[i].id);
	}
	api_str_free(&b->vsock.uds);
	free(b);
}

int api_boot_config(const struct api_ctx *ctx, struct vm_config **out, char *err, size_t errlen)
{
	const struct vm_config *c = &ctx->cfg;
	struct vm_config *b;
	char root[160] = "", *cmd = NULL;
	bool failed = false;
	int root_idx = -1, n, ret = -ENOMEM;
	unsigned d = 0;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto nomem;
	*b = *c;
	b->kernel_path = dup_str(c->kernel_path, &failed);
	b->initrd_path = dup_str(c->initrd_path, &failed);
	b->cmdline = NULL;
	b->cpu_template = dup_str(c->cpu_template, &failed);
	b->accel = dup_str(c->accel, &failed);
	b->console_path = dup_str(c->console_path, &failed);
	b->vsock.uds = dup_str(c->vsock.uds, &failed);
	for (unsigned i = 0; i < c->ndisks; i++)
		if (ctx->drives[i].is_root)
			root_idx = (int)i;
	/* The root drive first, then the others in the order they were PUT. */
	if (root_idx >= 0)
		b->disks[d++] = c->disks[root_idx];
	for (unsigned i = 0; i < c->ndisks; i++)
		if ((int)i != root_idx)
			b->disks[d++] = c->disks[i];
	for (unsigned i = 0; i < b->ndisks; i++) {
		b->disks[i].path = dup_str(b->disks[i].path, &failed);
		b->disks[i].id = dup_str(b->disks[i].id, &failed);
	}
	for (unsigned i = 0; i < b->nnets; i++) {
		b->nets[i].tap = dup_str(b->nets[i].tap, &failed);
		b->nets[i].id = dup_str(b->nets[i].id, &failed);
	}
	if (failed)
		goto nomem;

	if (root_idx >= 0) {
		const char *uuid = ctx->drives[root_idx].partuuid;

		if (uuid)
			snprintf(root, sizeof(root), "root=PARTUUID=%.64s %s", uuid,
				 c->disks[root_idx].read_only ? "ro" : "rw");
		else
			snprintf(root, sizeof(root), "root=/dev/vda %s",
				 c->disks[root_idx].read_only ? "ro" : "rw");
	}
	cmd = malloc(VM_CMDLINE_MAX);
	if (!cmd)
		goto nomem;
	if (c->cmdline) {
		b->no_default_cmdline = true;
		b->keep_template_cmdline = true;
		n = snprintf(cmd, VM_CMDLINE_MAX, "%s%s%s%s%s", API_PV_PARAM, *c->cmdline ? " " : "",
			     c->cmdline, *root ? " " : "", root);
	} else {
		n = snprintf(cmd, VM_CMDLINE_MAX, "%s", root);
	}
	if (n < 0 || n >= VM_CMDLINE_MAX) {
		snprintf(err, errlen, "the kernel command line would be longer than %d bytes",
			 VM_CMDLINE_MAX - 1);
		ret = -EINVAL;
		goto fail;
	}
	if (*cmd)
		b->cmdline = cmd;
	else
		free(cmd);
	*out = b;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(cmd);
	api_boot_config_free(b);
	return ret;
}
