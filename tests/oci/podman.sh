# podman driving osprey-oci (podman --runtime $OSPREY_OCI), with a busybox
# image the suite imports itself (no registry) and no network. Needs root,
# podman, busybox-static. Rlimits: podman asks for RLIMIT_NOFILE 1048576,
# which needs CAP_SYS_RESOURCE; hosts without it (as some CI sandboxes)
# fail in crun and osprey-oci alike, so every run passes --ulimit.

PODMAN_IMAGE=localhost/osprey-oci-test:busybox

podman_needs() {
	[[ $(id -u) -eq 0 ]] || skip "podman tests need root"
	command -v podman >/dev/null || skip "podman is not installed (scripts/deps.sh --podman)"
	[[ -x /bin/busybox ]] || skip "busybox-static is not installed"
	if ! podman image exists "$PODMAN_IMAGE" 2>/dev/null; then
		local img=$TEST_TMP/img
		mkdir -p "$img/bin" "$img/proc" "$img/dev" "$img/sys" "$img/tmp" "$img/etc"
		cp /bin/busybox "$img/bin/"
		for a in sh cat echo hostname grep id sleep ls mkdir touch head tr wc seq kill; do
			ln -sf busybox "$img/bin/$a"
		done
		tar -C "$img" -cf "$TEST_TMP/img.tar" .
		podman import "$TEST_TMP/img.tar" "$PODMAN_IMAGE" >/dev/null || fail "podman import"
	fi
}

# pm ARGS...: podman with osprey-oci; output in $TEST_TMP/out, err.
pm() {
	status=0
	# conmon leaves an "oom" marker in its working directory after an OOM kill
	cd "$TEST_TMP"
	timeout --kill-after=5 60 podman --runtime "$OSPREY_OCI" --cgroup-manager cgroupfs "$@" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
}

PM_RUN=(run --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

test_podman_run_rm() {
	podman_needs
	pm "${PM_RUN[@]}" --rm --hostname pod1 "$PODMAN_IMAGE" sh -c 'echo "pid=$$"; hostname; exit 3'
	expect_status 3 "$status" "podman run --rm"
	expect_grep '^pid=1$' "$TEST_TMP/out"
	expect_grep '^pod1$' "$TEST_TMP/out"
}

test_podman_detached_exec_stop_rm() {
	podman_needs
	pm "${PM_RUN[@]}" -d --name osprey-oci-t1 "$PODMAN_IMAGE" sleep 1000
	expect_status 0 "$status" "podman run -d"
	pm exec osprey-oci-t1 sh -c 'echo "exec in $(hostname)"; exit 5'
	expect_status 5 "$status" "podman exec"
	expect_grep '^exec in ' "$TEST_TMP/out"
	pm ps --filter name=osprey-oci-t1 --format '{{.Status}}'
	expect_grep '^Up' "$TEST_TMP/out"
	pm stop -t 1 osprey-oci-t1
	expect_status 0 "$status" "podman stop"
	pm rm osprey-oci-t1
	expect_status 0 "$status" "podman rm"
}

test_podman_limits_and_security() {
	podman_needs
	pm "${PM_RUN[@]}" --rm --memory 32m --memory-swap 32m "$PODMAN_IMAGE" \
		sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived'
	expect_status 137 "$status" "podman --memory 32m hog"
	pm "${PM_RUN[@]}" --rm --pids-limit 10 "$PODMAN_IMAGE" \
		sh -c 'sh -c "for i in \$(seq 1 40); do sleep 5 & done" 2>/dev/null; set -- /proc/[0-9]*; echo "$#"'
	expect_status 0 "$status" "podman --pids-limit"
	[[ $(tail -1 "$TEST_TMP/out") -le 10 ]] || fail "pids limit not enforced: $(cat "$TEST_TMP/out")"
	pm "${PM_RUN[@]}" --rm --read-only "$PODMAN_IMAGE" sh -c 'touch /x'
	[[ $status -ne 0 ]] || fail "--read-only root is writable"
	expect_grep 'Read-only file system' "$TEST_TMP/err"
	pm "${PM_RUN[@]}" --rm --cap-drop all --cap-add kill "$PODMAN_IMAGE" grep CapEff /proc/self/status
	expect_grep 'CapEff:\s+0000000000000020' "$TEST_TMP/out"
	cat >"$TEST_TMP/seccomp.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
JSON
	pm "${PM_RUN[@]}" --rm --security-opt seccomp="$TEST_TMP/seccomp.json" "$PODMAN_IMAGE" mkdir /tmp/d
	[[ $status -ne 0 ]] || fail "seccomp profile not applied"
	expect_grep 'Operation not permitted' "$TEST_TMP/err"
}
