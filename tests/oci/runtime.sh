# osprey-oci integration tests: containers from a busybox bundle that each
# test makes itself. Needs root, $OSPREY_OCI (the runtime under test),
# busybox-static and jq. Every test checks that what it created is gone
# afterwards: the state directory, the cgroups, the mounts.

OCI_CG_ROOT=${OSPREY_OCI_CGROUP_ROOT:-/sys/fs/cgroup}

oci_needs_root() {
	[[ $(id -u) -eq 0 ]] || skip "containers need root"
	[[ -x /bin/busybox ]] || skip "busybox-static is not installed"
	command -v jq >/dev/null || skip "jq is not installed"
}

# oci ARGS...: the runtime with this test's state root; output in
# $TEST_TMP/out and err, status in $status.
oci() {
	status=0
	timeout --kill-after=5 30 "$OSPREY_OCI" --root "$TEST_TMP/state" "$@" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	if grep -q "Sanitizer" "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
}

# make_bundle [JQ_FILTER]: $TEST_TMP/b with a busybox rootfs and a
# config.json (pid, mount, ipc, uts, network namespaces) edited by the
# filter; the process runs "sh -c $CMD" (set CMD before).
make_bundle() {
	local b=$TEST_TMP/b filter=${1:-.}
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/sys" "$b/rootfs/tmp" \
		"$b/rootfs/etc" "$b/rootfs/mnt"
	cp /bin/busybox "$b/rootfs/bin/"
	for a in sh cat echo hostname grep id sleep ls mkdir touch head tr seq wc mount stat kill ps dd; do
		ln -sf busybox "$b/rootfs/bin/$a"
	done
	jq -n --arg cmd "${CMD:-true}" '{
		ociVersion: "1.1.0",
		process: {args: ["sh", "-c", $cmd], env: ["PATH=/bin"], cwd: "/",
			user: {uid: 0, gid: 0}},
		root: {path: "rootfs"},
		hostname: "osprey-box",
		mounts: [
			{destination: "/proc", type: "proc", source: "proc"},
			{destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=755", "size=1m"]},
			{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev"]}
		],
		linux: {namespaces: [{type: "pid"}, {type: "mount"}, {type: "ipc"}, {type: "uts"},
			{type: "network"}]}
	}' | jq "$filter" >"$b/config.json"
}

# expect_clean ID: nothing of the container is left.
expect_clean() {
	local id=$1
	[[ ! -e "$TEST_TMP/state/$id" ]] || fail "state directory $TEST_TMP/state/$id left behind"
	local left
	left=$(find "$OCI_CG_ROOT" -maxdepth 4 -type d -path "*osprey-oci/$id" 2>/dev/null || true)
	[[ -z "$left" ]] || fail "cgroups left behind: $left"
	if grep -q "$TEST_TMP" /proc/mounts; then
		grep "$TEST_TMP" /proc/mounts >&2
		fail "mounts left behind"
	fi
}

# expect_error PATTERN: the last command failed with one clear error.
expect_error() {
	[[ $status -ne 0 ]] || fail "expected a failure, got status 0"
	expect_grep "$1" "$TEST_TMP/err"
	local n
	n=$(grep -c 'error' "$TEST_TMP/err" || true)
	[[ $n -eq 1 ]] || {
		cat "$TEST_TMP/err" >&2
		fail "expected one error line, got $n"
	}
}

test_pid1_hostname_and_exit_status() {
	oci_needs_root
	CMD='echo "pid=$$"; hostname; exit 7' make_bundle
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 7 "$status" "run"
	expect_grep '^pid=1$' "$TEST_TMP/out"
	expect_grep '^osprey-box$' "$TEST_TMP/out"
	expect_clean c1
}

test_lifecycle_create_start_kill_delete() {
	oci_needs_root
	CMD='sleep 100' make_bundle
	oci create --bundle "$TEST_TMP/b" --pid-file "$TEST_TMP/pid" c1
	expect_status 0 "$status" "create"
	oci state c1
	[[ $(jq -r .status "$TEST_TMP/out") == created ]] || fail "not created: $(cat "$TEST_TMP/out")"
	[[ $(jq -r .pid "$TEST_TMP/out") == "$(cat "$TEST_TMP/pid")" ]] || fail "pid file differs from state"
	[[ $(jq -r .ociVersion "$TEST_TMP/out") == 1.* ]] || fail "no ociVersion"
	[[ $(jq -r .bundle "$TEST_TMP/out") == "$TEST_TMP/b" ]] || fail "wrong bundle"
	[[ -d "$OCI_CG_ROOT/pids/osprey-oci/c1" || -d "$OCI_CG_ROOT/osprey-oci/c1" ]] || fail "no cgroup"
	oci start c1
	expect_status 0 "$status" "start"
	oci state c1
	[[ $(jq -r .status "$TEST_TMP/out") == running ]] || fail "not running: $(cat "$TEST_TMP/out")"
	oci start c1
	expect_error "is running, not created"
	oci delete c1
	expect_error "stop it first or use --force"
	oci kill c1 KILL
	expect_status 0 "$status" "kill"
	for _ in $(seq 50); do
		oci state c1
		[[ $(jq -r .status "$TEST_TMP/out") == stopped ]] && break
		sleep 0.1
	done
	[[ $(jq -r .status "$TEST_TMP/out") == stopped ]] || fail "not stopped after kill"
	oci delete c1
	expect_status 0 "$status" "delete"
	expect_clean c1
	oci state c1
	expect_error "does not exist"
}

test_exec_ps_list_pause_update() {
	oci_needs_root
	CMD='sleep 100' make_bundle '.linux.resources = {pids: {limit: 50}}'
	oci run --detach --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run --detach"
	oci exec c1 sh -c 'echo "in $(hostname) as $$"; exit 4'
	expect_status 4 "$status" "exec"
	expect_grep '^in osprey-box as [0-9]+$' "$TEST_TMP/out"
	echo '{"args": ["sh", "-c", "echo $FOO; pwd"], "env": ["FOO=bar"], "cwd": "/tmp"}' >"$TEST_TMP/p.json"
	oci exec --process "$TEST_TMP/p.json" c1
	expect_status 0 "$status" "exec --process"
	expect_grep '^bar$' "$TEST_TMP/out"
	expect_grep '^/tmp$' "$TEST_TMP/out"
	oci exec c1 /bin/nonexistent
	expect_error "not found"
	oci ps --format json c1
	[[ $(jq length "$TEST_TMP/out") -eq 1 ]] || fail "ps: $(cat "$TEST_TMP/out")"
	oci list --format json
	[[ $(jq -r '.[0].id + " " + .[0].status' "$TEST_TMP/out") == "c1 running" ]] || fail "list: $(cat "$TEST_TMP/out")"
	oci pause c1
	expect_status 0 "$status" "pause"
	oci state c1
	[[ $(jq -r .status "$TEST_TMP/out") == paused ]] || fail "not paused"
	oci resume c1
	expect_status 0 "$status" "resume"
	oci state c1
	[[ $(jq -r .status "$TEST_TMP/out") == running ]] || fail "not running after resume"
	oci update --pids-limit 20 c1
	expect_status 0 "$status" "update"
	if [[ -f "$OCI_CG_ROOT/pids/osprey-oci/c1/pids.max" ]]; then
		[[ $(cat "$OCI_CG_ROOT/pids/osprey-oci/c1/pids.max") == 20 ]] || fail "pids.max not updated"
	fi
	echo '{"pids": {"limit": "many"}}' >"$TEST_TMP/r.json"
	oci update --resources "$TEST_TMP/r.json" c1
	expect_error "pids.limit"
	oci delete --force c1
	expect_status 0 "$status" "delete --force"
	expect_clean c1
}

test_memory_limit_kills_hog() {
	oci_needs_root
	[[ -d "$OCI_CG_ROOT/memory" || -f "$OCI_CG_ROOT/cgroup.controllers" ]] || skip "no memory controller"
	local swap=''
	[[ -f "$OCI_CG_ROOT/memory/memory.memsw.limit_in_bytes" ]] && swap=', swap: 33554432'
	CMD='x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' \
		make_bundle ".linux.resources = {memory: {limit: 33554432 $swap}}"
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 137 "$status" "memory hog (SIGKILL by the OOM killer)"
	expect_no_grep survived "$TEST_TMP/out"
	expect_clean c1
}

test_pids_limit_stops_fork_bomb() {
	oci_needs_root
	# the bomb's shell dies on its first failed fork; the count uses no fork
	CMD='sh -c "for i in \$(seq 1 40); do sleep 5 & done" 2>/dev/null; echo "bomb=$?"; set -- /proc/[0-9]*; echo "$#"' \
		make_bundle '.linux.resources = {pids: {limit: 12}}'
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run"
	expect_no_grep '^bomb=0$' "$TEST_TMP/out"
	local n
	n=$(tail -1 "$TEST_TMP/out")
	[[ "$n" =~ ^[0-9]+$ && $n -le 12 && $n -ge 5 ]] || fail "pids limit 12 not enforced: $n processes"
	expect_clean c1
}

test_seccomp_errno_for_denied_syscall() {
	oci_needs_root
	CMD='mkdir /tmp/x; echo "mkdir=$?"; ls / >/dev/null; echo "ls=$?"' make_bundle '.linux.seccomp = {
		defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}'
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run"
	expect_grep 'mkdir=1' "$TEST_TMP/out"
	expect_grep 'ls=0' "$TEST_TMP/out"
	expect_grep 'Operation not permitted' "$TEST_TMP/err"
	expect_clean c1
}

test_readonly_root_and_masked_paths() {
	oci_needs_root
	CMD='touch /x 2>&1; touch /tmp/y && echo tmp-ok; wc -c </proc/kcore; ls /proc/acpi | wc -l; (echo 1 >/proc/sys/kernel/shmmni) 2>&1' \
		make_bundle '.root.readonly = true | .linux.maskedPaths = ["/proc/kcore", "/proc/acpi", "/nonexistent"]
			| .linux.readonlyPaths = ["/proc/sys"]'
	oci run --bundle "$TEST_TMP/b" c1
	expect_grep 'Read-only file system' "$TEST_TMP/out"
	expect_grep '^tmp-ok$' "$TEST_TMP/out"
	expect_grep '^0$' "$TEST_TMP/out"
	[[ $(grep -c 'Read-only file system' "$TEST_TMP/out") -eq 2 ]] || fail "/proc/sys is writable"
	expect_clean c1
}

test_capabilities_dropped_and_user() {
	oci_needs_root
	# root with no_new_privs keeps exactly its sets (exec grants nothing)
	CMD='grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status; grep NoNewPrivs /proc/self/status' make_bundle '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"]}
		| .process.noNewPrivileges = true'
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run"
	expect_grep '^CapEff:\s+0000000000000020$' "$TEST_TMP/out"
	expect_grep '^CapPrm:\s+0000000000000020$' "$TEST_TMP/out"
	expect_grep '^CapBnd:\s+0000000000000021$' "$TEST_TMP/out"
	expect_grep 'NoNewPrivs:\s+1' "$TEST_TMP/out"
	# another user keeps only its ambient set across exec
	CMD='grep -E "^Cap(Eff|Bnd|Amb)" /proc/self/status; id -u; id -G' make_bundle '.process.capabilities = {
		bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"],
		inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]}
		| .process.user = {uid: 1000, gid: 1000, additionalGids: [10, 20]}'
	oci run --bundle "$TEST_TMP/b" c2
	expect_status 0 "$status" "run"
	expect_grep '^CapEff:\s+0000000000000020$' "$TEST_TMP/out"
	expect_grep '^CapAmb:\s+0000000000000020$' "$TEST_TMP/out"
	expect_grep '^CapBnd:\s+0000000000000021$' "$TEST_TMP/out"
	expect_grep '^1000$' "$TEST_TMP/out"
	expect_grep '^1000 10 20$' "$TEST_TMP/out"
	expect_clean c1
	expect_clean c2
}

test_private_mounts_and_namespaces() {
	oci_needs_root
	CMD='mount -t tmpfs none /mnt && echo mounted; sleep 100' make_bundle
	oci run --detach --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run --detach"
	sleep 0.3
	# nothing the container mounts shows on the host
	! grep -q "$TEST_TMP" /proc/mounts || fail "container mounts visible on the host"
	local pid
	oci state c1
	pid=$(jq -r .pid "$TEST_TMP/out")
	for ns in pid mnt net ipc uts; do
		[[ $(readlink /proc/$pid/ns/$ns) != $(readlink /proc/self/ns/$ns) ]] || fail "$ns namespace shared"
	done
	oci delete --force c1
	expect_clean c1
}

test_user_namespace_mapping() {
	oci_needs_root
	[[ -e /proc/self/ns/user ]] || skip "no user namespaces"
	# the container's root (host uid 200000) must reach its rootfs
	chmod 755 "$TEST_TMP"
	CMD='id -u; cat /proc/self/uid_map; sleep 100' make_bundle '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	oci run --detach --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run"
	oci state c1
	local pid
	pid=$(jq -r .pid "$TEST_TMP/out")
	[[ $(stat -c %u /proc/$pid) == 200000 ]] || fail "the container's root is not host uid 200000"
	oci exec c1 id -u
	expect_grep '^0$' "$TEST_TMP/out"
	oci delete --force c1
	expect_clean c1
}

test_hooks_get_state_on_stdin() {
	oci_needs_root
	local h=$TEST_TMP/hook.sh
	printf '#!/bin/sh\ncat >>%s/hook-$1.log\necho >>%s/hook-$1.log\n' "$TEST_TMP" "$TEST_TMP" >"$h"
	chmod +x "$h"
	CMD='true' make_bundle ".hooks = {
		prestart: [{path: \"$h\", args: [\"hook\", \"prestart\"]}],
		createRuntime: [{path: \"$h\", args: [\"hook\", \"createRuntime\"]}],
		createContainer: [{path: \"$h\", args: [\"hook\", \"createContainer\"]}],
		poststart: [{path: \"$h\", args: [\"hook\", \"poststart\"]}],
		poststop: [{path: \"$h\", args: [\"hook\", \"poststop\"]}]}"
	oci run --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run"
	for k in prestart createRuntime createContainer poststart poststop; do
		[[ -f "$TEST_TMP/hook-$k.log" ]] || fail "$k hook did not run"
		[[ $(jq -rs '.[0].id' "$TEST_TMP/hook-$k.log") == c1 ]] || fail "$k hook: no state on stdin"
	done
	[[ $(jq -r .status "$TEST_TMP/hook-poststop.log") == stopped ]] || fail "poststop state"
	expect_clean c1
}

test_spec_and_features() {
	oci_needs_root
	mkdir -p "$TEST_TMP/s"
	oci spec --bundle "$TEST_TMP/s"
	expect_status 0 "$status" "spec"
	[[ $(jq -r .ociVersion "$TEST_TMP/s/config.json") == 1.1.0 ]] || fail "spec"
	oci spec --bundle "$TEST_TMP/s"
	expect_error "exists already"
	oci features
	[[ $(jq -r '.linux.seccomp.enabled' "$TEST_TMP/out") == true ]] || fail "features"
	oci --systemd-cgroup list
	expect_error "systemd-cgroup is not supported"
	oci --log "$TEST_TMP/log.json" --log-format json state nope
	[[ $status -ne 0 ]] || fail "state of a missing container"
	[[ $(jq -r .level "$TEST_TMP/log.json") == error ]] || fail "json log: $(cat "$TEST_TMP/log.json")"
	expect_grep 'does not exist' "$TEST_TMP/log.json"
}

test_cgroup_v2_unified() {
	oci_needs_root
	local u=/sys/fs/cgroup/unified
	[[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && u=/sys/fs/cgroup
	[[ $(stat -f -c %T $u 2>/dev/null) == cgroup2fs ]] || skip "no cgroup2 mount"
	[[ -f $u/cgroup.procs ]] || skip "cgroup2 mount without cgroup.procs"
	CMD='sleep 100' make_bundle
	OSPREY_OCI_CGROUP_ROOT=$u oci run --detach --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "run on cgroup v2"
	[[ -f $u/osprey-oci/c1/cgroup.procs ]] || fail "no v2 cgroup"
	[[ $(wc -l <$u/osprey-oci/c1/cgroup.procs) -eq 1 ]] || fail "init not in the v2 cgroup"
	if [[ -f $u/osprey-oci/c1/cgroup.freeze ]]; then
		oci pause c1
		expect_status 0 "$status" "pause (cgroup.freeze)"
		[[ $(cat $u/osprey-oci/c1/cgroup.freeze) == 1 ]] || fail "not frozen"
		oci resume c1
		expect_status 0 "$status" "resume"
	fi
	oci delete --force c1
	[[ ! -e $u/osprey-oci/c1 ]] || fail "v2 cgroup left behind"
	expect_clean c1
}

# ---- bad input: one clear error, non-zero status, nothing left ----

test_bad_config_json() {
	oci_needs_root
	make_bundle
	printf '{"ociVersion": "1.1.0", "root": {"path": "rootfs"' >"$TEST_TMP/b/config.json"
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "invalid JSON"
	expect_clean c1
	echo 'not json at all' >"$TEST_TMP/b/config.json"
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "invalid JSON"
	expect_clean c1
	: >"$TEST_TMP/b/config.json"
	oci run --bundle "$TEST_TMP/b" c1
	expect_error "invalid JSON"
	expect_clean c1
	rm "$TEST_TMP/b/config.json"
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "cannot read .*config.json"
	expect_clean c1
}

test_bad_values() {
	oci_needs_root
	local f
	for f in '.root.path = "missing"@@rootfs .* does not exist' \
		'.linux.namespaces += [{type: "bogus"}]@@unknown namespace type' \
		'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 1, size: 0}] | .linux.gidMappings = .linux.uidMappings@@size 0' \
		'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 1000}]@@needs containerID' \
		'.linux.namespaces += [{type: "user"}]@@needs linux.uidMappings' \
		'.linux.namespaces |= map(if .type == "network" then .path = "/nonexistent/ns" else . end)@@namespace path' \
		'.linux.resources = {memory: {limit: "lots"}}@@expected an integer' \
		'.linux.resources = {cpu: {shares: 1}}@@shares' \
		'.linux.resources = {cpu: {cpus: "999999"}}@@cpuset.cpus' \
		'.process.args = []@@process.args' \
		'.process.args = ["/bin/nope"]@@not found' \
		'.process.capabilities = {bounding: ["CAP_FLYING"]}@@unknown capability' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_NOTIFY"}@@NOTIFY' \
		'.process.terminal = true@@console-socket'; do
		CMD=true make_bundle "${f%%@@*}"
		oci create --bundle "$TEST_TMP/b" c1
		[[ $status -ne 0 ]] || fail "accepted: ${f%%@@*}"
		expect_error "${f##*@@}"
		expect_clean c1
	done
}

test_failing_and_slow_hooks() {
	oci_needs_root
	CMD=true make_bundle '.hooks = {createRuntime: [{path: "/bin/false"}]}'
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "createRuntime hook /bin/false failed with exit status 1"
	expect_clean c1
	CMD=true make_bundle '.hooks = {prestart: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]}'
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "timed out after 1 s"
	expect_clean c1
	CMD=true make_bundle '.hooks = {createContainer: [{path: "/nonexistent-hook"}]}'
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "createContainer hook /nonexistent-hook failed"
	expect_clean c1
}

test_bad_ids_and_existing() {
	oci_needs_root
	CMD='sleep 100' make_bundle
	oci create --bundle "$TEST_TMP/b" a/b
	expect_error "contains '/'"
	oci create --bundle "$TEST_TMP/b" ..
	expect_error "not allowed"
	oci create --bundle "$TEST_TMP/b" ''
	expect_error "must not be empty"
	oci create --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "create"
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "already exists"
	[[ -d "$TEST_TMP/state/c1" ]] || fail "the existing container was removed"
	oci delete c1
	expect_status 0 "$status" "delete a created container"
	expect_clean c1
}

test_stale_state_dir() {
	oci_needs_root
	CMD=true make_bundle
	mkdir -p "$TEST_TMP/state/c1"
	echo garbage >"$TEST_TMP/state/c1/state.json"
	oci create --bundle "$TEST_TMP/b" c1
	expect_error "stale state"
	oci state c1
	expect_error "no readable state"
	oci delete c1
	expect_status 0 "$status" "delete of a stale state directory"
	expect_clean c1
	oci create --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "create after cleanup"
	oci delete c1
	expect_clean c1
}

test_init_killed_between_create_and_start() {
	oci_needs_root
	CMD='echo should-not-run' make_bundle
	oci create --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "create"
	oci state c1
	kill -9 "$(jq -r .pid "$TEST_TMP/out")"
	sleep 0.2
	oci start c1
	expect_error "is stopped, not created"
	oci delete c1
	expect_status 0 "$status" "delete"
	expect_clean c1
}

test_runtime_killed_during_create() {
	oci_needs_root
	CMD=true make_bundle ".hooks = {createRuntime: [{path: \"/bin/sh\",
		args: [\"sh\", \"-c\", \"echo \$\$ >$TEST_TMP/hook.pid; exec sleep 30\"]}]}"
	"$OSPREY_OCI" --root "$TEST_TMP/state" create --bundle "$TEST_TMP/b" c1 &
	local rt=$!
	sleep 0.5
	kill -9 $rt
	wait $rt 2>/dev/null || true
	sleep 0.2
	# the init dies with its runtime (parent-death signal); delete
	# removes the half-made container
	oci state c1
	[[ $(jq -r .status "$TEST_TMP/out") =~ creating|stopped ]] || fail "status $(cat "$TEST_TMP/out")"
	oci delete c1
	expect_status 0 "$status" "delete after a killed create"
	[[ -s "$TEST_TMP/hook.pid" ]] && kill "$(cat "$TEST_TMP/hook.pid")" 2>/dev/null || true
	expect_clean c1
}

# console_receiver SOCK OUT: a --console-socket peer (python3) that takes
# the pty master and copies what the container writes to OUT.
console_receiver() {
	python3 - "$1" "$2" <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
_, anc, _, _ = c.recvmsg(1, socket.CMSG_LEN(4))
fd = array.array("i", anc[0][2][:4])[0]
with open(sys.argv[2], "wb") as out:
    while True:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out.write(d)
        out.flush()
PY
	for _ in $(seq 50); do
		[[ -S "$1" ]] && return 0
		sleep 0.05
	done
	fail "console receiver did not start"
}

test_console_socket_terminal() {
	oci_needs_root
	command -v python3 >/dev/null || skip "python3 is not installed"
	CMD='tty; echo hello-from-tty' make_bundle '.process.terminal = true
		| .process.consoleSize = {height: 30, width: 100}
		| .mounts += [{destination: "/dev/pts", type: "devpts", source: "devpts",
			options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}]'
	ln -sf busybox "$TEST_TMP/b/rootfs/bin/tty"
	console_receiver "$TEST_TMP/console.sock" "$TEST_TMP/console.out"
	local rx=$!
	oci create --bundle "$TEST_TMP/b" --console-socket "$TEST_TMP/console.sock" c1
	expect_status 0 "$status" "create with a console socket"
	oci start c1
	expect_status 0 "$status" "start"
	wait $rx || true
	expect_grep '^/dev/pts/0' "$TEST_TMP/console.out"
	expect_grep 'hello-from-tty' "$TEST_TMP/console.out"
	oci delete --force c1
	expect_clean c1
}

test_preserve_fds() {
	oci_needs_root
	CMD='echo through-fd-3 >&3 || exit 9' make_bundle
	exec 3>"$TEST_TMP/fd3"
	oci run --preserve-fds 1 --bundle "$TEST_TMP/b" c1
	exec 3>&-
	expect_status 0 "$status" "run --preserve-fds 1"
	expect_grep '^through-fd-3$' "$TEST_TMP/fd3"
	# without it, fd 3 is closed in the container
	exec 3>"$TEST_TMP/fd3b"
	oci run --bundle "$TEST_TMP/b" c2
	exec 3>&-
	expect_status 9 "$status" "fd 3 closed in the container"
	[[ ! -s "$TEST_TMP/fd3b" ]] || fail "wrote through a leaked fd"
	expect_clean c1
	expect_clean c2
}

# rootless: a throwaway user runs a busybox bundle in a user namespace
# (its own id mapped, then its /etc/subuid range through newuidmap);
# without a user namespace in config.json, one clear error
test_rootless_run_as_user() {
	oci_needs_root
	command -v useradd >/dev/null || skip "useradd is not installed"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	local u=ospreyrl$$ uid gid
	useradd -M -s /bin/sh "$u" || skip "cannot add a user"
	trap 'userdel "'"$u"'" >/dev/null 2>&1; rm -rf "$TEST_TMP"' EXIT
	uid=$(id -u "$u")
	gid=$(id -g "$u")
	setpriv --reuid "$uid" --regid "$gid" --clear-groups unshare -U true 2>/dev/null ||
		skip "this host forbids unprivileged user namespaces"
	chmod 755 "$TEST_TMP"
	mkdir -m 1777 "$TEST_TMP/nstate"
	as_user() {
		status=0
		setpriv --reuid "$uid" --regid "$gid" --clear-groups env -u XDG_RUNTIME_DIR \
			timeout --kill-after=5 30 "$OSPREY_OCI" --root "$TEST_TMP/nstate/r" "$@" \
			>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	}

	# no user namespace: one clear error, nothing left
	CMD=true make_bundle
	chmod -R a+rX "$TEST_TMP/b"
	as_user run --bundle "$TEST_TMP/b" c1
	expect_error "rootless.*needs a user namespace"
	[[ ! -e "$TEST_TMP/nstate/r/c1" ]] || fail "state left behind"

	# the user's own ids
	CMD='id -u; id -g; hostname; cat /proc/self/uid_map; touch /tmp/x && echo wrote' \
		make_bundle '.linux.namespaces += [{type: "user"}] | del(.linux.namespaces[] | select(.type == "network"))
		| .linux.uidMappings = [{containerID: 0, hostID: '"$uid"', size: 1}]
		| .linux.gidMappings = [{containerID: 0, hostID: '"$gid"', size: 1}]
		| .linux.resources = {pids: {limit: 50}}'
	chmod -R a+rX "$TEST_TMP/b"
	as_user run --bundle "$TEST_TMP/b" c2
	expect_status 0 "$status" "rootless run: $(cat "$TEST_TMP/err")"
	[[ $(head -2 "$TEST_TMP/out" | tr '\n' ' ') == "0 0 " ]] || fail "ids inside: $(cat "$TEST_TMP/out")"
	expect_grep "^osprey-box$" "$TEST_TMP/out"
	expect_grep "^ +0 +$uid +1$" "$TEST_TMP/out"
	expect_grep "^wrote$" "$TEST_TMP/out"
	# cgroups v1 are not delegated: a warning, not an error
	if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]]; then
		expect_grep "warning: rootless: no cgroup" "$TEST_TMP/err"
	fi
	[[ ! -e "$TEST_TMP/nstate/r/c2" ]] || fail "state left behind"

	# the subordinate ids too (newuidmap/newgidmap and /etc/subuid)
	local sub
	sub=$(awk -F: -v u="$u" '$1 == u {print $2}' /etc/subuid)
	if command -v newuidmap >/dev/null && [[ -n $sub ]] && grep -q "^$u:" /etc/subgid; then
		local subg
		subg=$(awk -F: -v u="$u" '$1 == u {print $2}' /etc/subgid)
		CMD='cat /proc/self/uid_map /proc/self/gid_map' make_bundle \
			'.linux.namespaces += [{type: "user"}] | del(.linux.namespaces[] | select(.type == "network"))
			| .linux.uidMappings = [{containerID: 0, hostID: '"$uid"', size: 1}, {containerID: 1, hostID: '"$sub"', size: 1000}]
			| .linux.gidMappings = [{containerID: 0, hostID: '"$gid"', size: 1}, {containerID: 1, hostID: '"$subg"', size: 1000}]'
		chmod -R a+rX "$TEST_TMP/b"
		as_user run --bundle "$TEST_TMP/b" c3
		expect_status 0 "$status" "rootless run with subordinate ids: $(cat "$TEST_TMP/err")"
		expect_grep "^ +1 +$sub +1000$" "$TEST_TMP/out"
		# a range the user does not own: newuidmap refuses, one clear error
		make_bundle '.linux.namespaces += [{type: "user"}]
			| .linux.uidMappings = [{containerID: 0, hostID: '"$uid"', size: 1}, {containerID: 1, hostID: 1, size: 10}]
			| .linux.gidMappings = [{containerID: 0, hostID: '"$gid"', size: 1}]'
		chmod -R a+rX "$TEST_TMP/b"
		as_user run --bundle "$TEST_TMP/b" c4
		expect_error "newuidmap refused"
		[[ ! -e "$TEST_TMP/nstate/r/c4" ]] || fail "state left behind"
	fi
	expect_clean c2
}

# osprey-ctl lists containers (and with --sock, the VM beside them)
test_ctl_lists_containers_and_vm() {
	oci_needs_root
	local top ctl vmm row
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	ctl=${OSPREY_CTL:-$top/build/osprey-ctl}
	vmm=${OSPREY:-$top/build/osprey}
	[[ -x $ctl ]] || skip "osprey-ctl is not built ($ctl)"
	CMD='sleep 30' make_bundle
	oci create --bundle "$TEST_TMP/b" c1
	expect_status 0 "$status" "create"
	"$ctl" containers --root "$TEST_TMP/state" --runtime "$OSPREY_OCI" >"$TEST_TMP/ls" 2>&1 ||
		fail "osprey-ctl containers: $(cat "$TEST_TMP/ls")"
	row=$(grep '^container *c1 ' "$TEST_TMP/ls") || fail "no row for c1: $(cat "$TEST_TMP/ls")"
	read -r _ _ pid st bundle _ <<<"$row"
	[[ $pid == "$(jq -r .pid "$TEST_TMP/state/c1/state.json")" && $st == created &&
		$bundle == "$TEST_TMP/b" ]] || fail "bad row: $row"
	oci start c1
	"$ctl" containers --root "$TEST_TMP/state" --runtime "$OSPREY_OCI" --format json >"$TEST_TMP/ls"
	[[ $(jq -r '.[] | select(.id == "c1") | .kind + " " + .status' "$TEST_TMP/ls") == "container running" ]] ||
		fail "json: $(cat "$TEST_TMP/ls")"
	if [[ -x $vmm ]]; then
		local sock=$TEST_TMP/api.sock i
		"$vmm" --api-sock "$sock" >"$TEST_TMP/vm.out" 2>&1 </dev/null &
		local vpid=$!
		for ((i = 0; i < 100; i++)); do
			[[ -S $sock ]] && break
			sleep 0.05
		done
		"$ctl" --sock "$sock" list --root "$TEST_TMP/state" --runtime "$OSPREY_OCI" >"$TEST_TMP/ls" 2>&1 || true
		kill "$vpid" 2>/dev/null
		wait "$vpid" 2>/dev/null || true
		grep -q '^vm .* Not started ' "$TEST_TMP/ls" || fail "no VM row: $(cat "$TEST_TMP/ls")"
		grep -q '^container *c1 .* running ' "$TEST_TMP/ls" || fail "no container row: $(cat "$TEST_TMP/ls")"
	fi
	oci delete --force c1
	"$ctl" containers --root "$TEST_TMP/state" --runtime "$OSPREY_OCI" -q >"$TEST_TMP/ls"
	[[ ! -s $TEST_TMP/ls ]] || fail "c1 still listed: $(cat "$TEST_TMP/ls")"
	"$ctl" containers --root "$TEST_TMP/state" --runtime /nonexistent >"$TEST_TMP/ls" 2>"$TEST_TMP/err" &&
		fail "a missing runtime was not an error"
	expect_grep "error: .*nonexistent" "$TEST_TMP/err"
	expect_clean c1
}
