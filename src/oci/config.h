// SPDX-License-Identifier: Apache-2.0
/*
 * The OCI runtime specification's config.json (1.1) as plain structs.
 * oci_config_parse() checks types (a wrong type is an error), ignores
 * unknown fields as the specification requires, and validates values
 * that can be checked without touching the system.
 */
#ifndef OSPREY_OCI_CONFIG_H
#define OSPREY_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include "sandbox/sandbox.h"

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

struct oci_process {
	bool terminal;
	unsigned int console_height, console_width;
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd;
	uint32_t uid, gid;
	int umask; /* -1: unset */
	uint32_t *additional_gids;
	size_t n_additional_gids;
	bool has_caps;
	struct sb_caps caps;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile, *selinux_label;
};

struct oci_mount {
	char *destination, *type, *source;
	char **options;
	size_t n_options;
	struct sb_mount_flags flags;
};

struct oci_hook {
	char *path;
	char **args, **env;
	size_t n_args, n_env;
	int timeout; /* seconds, 0: none */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS,
};

struct oci_namespace {
	int kind; /* SB_NS_* */
	char *path; /* NULL: a new namespace */
};

struct oci_device {
	char *path;
	char type; /* c, b, u, p */
	int64_t major, minor;
	uint32_t file_mode; /* 0: 0666 */
	bool has_mode;
	uint32_t uid, gid;
};

struct oci_config {
	char *oci_version;
	struct oci_process process;
	bool has_process;
	char *root_path;
	bool root_readonly;
	char *hostname, *domainname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook *hooks[OCI_HOOK_KINDS];
	size_t n_hooks[OCI_HOOK_KINDS];
	char **annotation_keys, **annotation_values;
	size_t n_annotations;

	/* linux */
	struct oci_namespace namespaces[SB_NS_COUNT];
	size_t n_namespaces;
	uint32_t ns_mask; /* 1 << kind for each listed */
	struct sb_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct sb_resources resources;
	char **sysctl_keys, **sysctl_values;
	size_t n_sysctl;
	char **masked_paths, **readonly_paths;
	size_t n_masked_paths, n_readonly_paths;
	char *rootfs_propagation;
	char *mount_label;
	bool has_seccomp;
	struct sb_seccomp seccomp;
	bool has_personality;
	unsigned long personality;
};

/* Parses a config.json text; on error returns -EINVAL (or -ENOMEM) with
 * a message naming the field. *cfg must be freed with oci_config_free
 * either way. */
int oci_config_parse(const char *text, size_t len, struct oci_config *cfg, struct sb_err *e);
int oci_config_load(const char *path, struct oci_config *cfg, struct sb_err *e);
void oci_config_free(struct oci_config *cfg);

/* A process object alone (exec --process): the same rules. */
int oci_process_parse_json(const char *text, size_t len, struct oci_process *p, struct sb_err *e);
void oci_process_free(struct oci_process *p);

/* linux.resources alone (update --resources). */
int oci_resources_parse_json(const char *text, size_t len, struct sb_resources *r, struct sb_err *e);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown. */
int oci_rlimit_from_name(const char *name);

/* The default config.json of `spec` (rootless: a user namespace mapping
 * the caller, no network namespace, bind mounts only). */
char *oci_default_spec(bool rootless, uint32_t uid, uint32_t gid);

#endif
