// SPDX-License-Identifier: Apache-2.0
/*
 * Snapshot state files: framing (snapshot_file_parse), then everything
 * that reads a body without a machine: the configuration
 * (vm_config_read), the memory section, vCPU and platform states. The
 * first byte picks how the rest is used:
 *   even  the rest is a whole state file (checksum and all)
 *   odd   the rest is a body, framed here with a good checksum, so that
 *         mutations reach the section readers past the CRC
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu_state.h"
#include "irqchip/platform_state.h"
#include "snapshot/snapshot_int.h"
#include "vmm/vm_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_body(const struct snapshot_file *f)
{
	static struct x86_cpu_state cpu;
	static struct x86_platform_state plat;
	struct state_reader r, sub;
	struct snapshot_memory m;
	struct vm_config cfg;
	char name[STATE_NAME_MAX + 1], err[256];
	uint32_t version;

	state_reader_init(&r, f->body, f->body_len);
	if (vm_config_read(&r, &cfg) == 0)
		vm_config_free_strings(&cfg);
	if (snapshot_memory_read(f, &m, err, sizeof(err)) == 0)
		snapshot_memory_free(&m);
	state_reader_init(&r, f->body, f->body_len);
	while (state_next_section(&r, name, &version, &sub) == 1) {
		if (strncmp(name, "vcpu.", 5) == 0) {
			x86_cpu_state_read(&sub, &cpu);
			state_reader_finish(&sub, name);
		} else if (strcmp(name, "platform") == 0) {
			x86_platform_state_read(&sub, &plat);
			state_reader_finish(&sub, name);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot_file f;
	char err[256];
	uint8_t *buf = NULL;
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (snapshot_file_build(data[0] & 2 ? SNAPSHOT_DIFF : SNAPSHOT_FULL, data + 1,
					size - 1, &buf, &len))
			return 0;
		if (snapshot_file_parse(buf, len, &f, err, sizeof(err)) == 0)
			read_body(&f);
		free(buf);
		return 0;
	}
	if (snapshot_file_parse(data + 1, size - 1, &f, err, sizeof(err)) == 0)
		read_body(&f);
	return 0;
}
