// SPDX-License-Identifier: Apache-2.0
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu_template.h"
#include "arch/x86/mptable.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = (uint64_t)VM_DEFAULT_MEM_MIB << 20;
	cfg->ncpus = 1;
	cfg->cpu_template = "auto";
	cfg->console = CONSOLE_STDIO;
	cfg->on_reboot = REBOOT_EXIT;
}

int vm_config_validate(const struct vm_config *cfg, uint64_t host_ram, char *err,
		       size_t errlen)
{
	if (!cfg->kernel_path || !*cfg->kernel_path) {
		snprintf(err, errlen, "no kernel given (use --kernel PATH)");
		return -EINVAL;
	}
	if (cfg->mem_size == 0) {
		snprintf(err, errlen, "--memory must be larger than 0");
		return -EINVAL;
	}
	if (cfg->mem_size < VM_MIN_MEM) {
		snprintf(err, errlen, "--memory %llu KiB is below the minimum of %llu MiB",
			 (unsigned long long)(cfg->mem_size >> 10),
			 (unsigned long long)(VM_MIN_MEM >> 20));
		return -EINVAL;
	}
	if (cfg->mem_size % 4096) {
		snprintf(err, errlen, "--memory must be a multiple of 4 KiB");
		return -EINVAL;
	}
	if (host_ram && cfg->mem_size > host_ram) {
		snprintf(err, errlen, "--memory %llu MiB is more than the host has (%llu MiB)",
			 (unsigned long long)(cfg->mem_size >> 20),
			 (unsigned long long)(host_ram >> 20));
		return -EINVAL;
	}
	if (cfg->ncpus == 0) {
		snprintf(err, errlen, "--cpus must be at least 1");
		return -EINVAL;
	}
	if (cfg->ncpus > MPTABLE_MAX_CPUS) {
		snprintf(err, errlen, "--cpus %u is above the maximum of %u", cfg->ncpus,
			 MPTABLE_MAX_CPUS);
		return -EINVAL;
	}
	if (strcmp(cfg->cpu_template, "auto") != 0 && !cpu_template_find(cfg->cpu_template)) {
		snprintf(err, errlen, "--cpu-template: unknown CPU template '%s' (known: %s)",
			 cfg->cpu_template, cpu_template_names());
		return -EINVAL;
	}
	if (cfg->console == CONSOLE_FILE && (!cfg->console_path || !*cfg->console_path)) {
		snprintf(err, errlen, "--console file: needs a path (file:PATH)");
		return -EINVAL;
	}
	if (cfg->cmdline && strlen(cfg->cmdline) >= VM_CMDLINE_MAX) {
		snprintf(err, errlen, "--cmdline is %zu bytes, the limit is %d", strlen(cfg->cmdline),
			 VM_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}
