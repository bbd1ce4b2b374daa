// SPDX-License-Identifier: Apache-2.0
/*
 * `osprey run` arguments: the input is split at NUL bytes into argv
 * (after argv[0] = "run"), parsed with cli_parse_run and, when that
 * succeeds, checked with vm_config_validate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "vmm/config.h"

#define FUZZ_MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc;
	(void)argv;
	/* --help prints the usage to stdout: keep the fuzzer's output readable. */
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_ARGS + 2];
	char run[] = "run";
	char *copy = malloc(size + 1);
	struct vm_config cfg;
	char err[256];
	int argc = 0, ret;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = run;
	for (size_t i = 0; i <= size && argc <= FUZZ_MAX_ARGS;) {
		size_t n = strlen(copy + i);

		argv[argc++] = copy + i;
		i += n + 1;
	}
	argv[argc] = NULL;

	vm_config_init(&cfg);
	err[0] = '\0';
	ret = cli_parse_run(argc, argv, &cfg, err, sizeof(err));
	if (ret == 0)
		ret = vm_config_validate(&cfg, 8ULL << 30, err, sizeof(err));
	if (ret != 0 && ret != 1 && ret != -EINVAL)
		abort();
	if (ret == -EINVAL && (err[0] == '\0' || !memchr(err, '\0', sizeof(err))))
		abort(); /* every failure explains itself */
	log_set_level(LOG_LEVEL_WARN);
	free(copy);
	return 0;
}
