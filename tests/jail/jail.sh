# osprey-jailer integration tests. Needs root, $OSPREY_JAILER (the jailer
# under test) and gcc able to link a static binary (the jailed helper,
# built here, prints what it sees from inside the jail). Each test uses a
# chroot base under $TEST_TMP and checks that failures leave nothing.

JAIL_CG_ROOT=${OSPREY_CGROUP_ROOT:-/sys/fs/cgroup}

jail_needs_root() {
	[[ $(id -u) -eq 0 ]] || skip "the jailer needs root"
	[[ -x "${OSPREY_JAILER:-}" ]] || skip "OSPREY_JAILER is not set to the jailer"
}

# jailer ARGS...: output in $TEST_TMP/out and err, status in $status.
jailer() {
	status=0
	timeout --kill-after=5 30 "$OSPREY_JAILER" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	if grep -q "Sanitizer" "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
}

# The helper: uid, gid, capabilities, pid, cwd, rlimits and the names in /.
build_helper() {
	mkdir -p "$TEST_TMP/bin"
	cat >"$TEST_TMP/helper.c" <<'C'
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
int main(int argc, char **argv)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit fs, nf;
	char cwd[256];
	DIR *dir;
	struct dirent *de;
	int bnd = 0;

	memset(d, 0, sizeof(d));
	syscall(SYS_capget, &h, d);
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			bnd++;
	getrlimit(RLIMIT_FSIZE, &fs);
	getrlimit(RLIMIT_NOFILE, &nf);
	printf("uid=%u gid=%u groups=%d\n", getuid(), getgid(), getgroups(0, NULL));
	printf("capeff=%x%08x capprm=%x%08x bounding=%d nnp=%d\n", d[1].effective, d[0].effective,
	       d[1].permitted, d[0].permitted, bnd, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("pid=%d\n", getpid());
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	printf("fsize=%llu nofile=%llu\n", (unsigned long long)fs.rlim_cur, (unsigned long long)nf.rlim_cur);
	printf("args=");
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? "," : "", argv[i]);
	printf("\nroot=");
	dir = opendir("/");
	while (dir && (de = readdir(dir)))
		if (de->d_name[0] != '.')
			printf("%s ", de->d_name);
	printf("\n");
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "sleep"))
		sleep(3);
	return 0;
}
C
	gcc -static -O1 -o "$TEST_TMP/bin/jhelper" "$TEST_TMP/helper.c" 2>"$TEST_TMP/gcc.err" ||
		skip "cannot link a static helper: $(head -n 3 "$TEST_TMP/gcc.err")"
}

# expect_no_jail ID: no jail directory and no cgroup for ID.
expect_no_jail() {
	local left
	left=$(find "$TEST_TMP/base" -mindepth 1 2>/dev/null || true)
	[[ -z "$left" ]] || fail "left behind in the chroot base: $left"
	left=$(find "$JAIL_CG_ROOT" -maxdepth 4 -type d -path "*osprey/$1" 2>/dev/null || true)
	[[ -z "$left" ]] || fail "cgroups left behind: $left"
}

# remove_jail_cgroups ID: the cgroups a successful run leaves (as
# Firecracker's jailer, it does not remove them itself).
remove_jail_cgroups() {
	local d
	find "$JAIL_CG_ROOT" -maxdepth 4 -type d -path "*osprey/$1" 2>/dev/null | while read -r d; do
		rmdir "$d" 2>/dev/null || true
		rmdir "$(dirname "$d")" 2>/dev/null || true
	done
}

test_bad_input() {
	jail_needs_root
	mkdir -p "$TEST_TMP/base"
	local b=(--chroot-base-dir "$TEST_TMP/base")
	local long
	long=$(printf 'a%.0s' {1..65})
	jailer "${b[@]}" --exec-file /bin/true --uid 1000 --gid 1000
	expect_status 1 "$status" "no id"
	expect_grep -- "--id is required" "$TEST_TMP/err"
	jailer "${b[@]}" --id a/b --exec-file /bin/true --uid 1000 --gid 1000
	expect_status 1 "$status" "id with /"
	expect_grep -- "--id 'a/b'" "$TEST_TMP/err"
	jailer "${b[@]}" --id "$long" --exec-file /bin/true --uid 1000 --gid 1000
	expect_status 1 "$status" "long id"
	jailer "${b[@]}" --id j1 --exec-file "$TEST_TMP/none" --uid 1000 --gid 1000
	expect_status 1 "$status" "missing exec file"
	expect_grep "No such file" "$TEST_TMP/err"
	echo x >"$TEST_TMP/plain"
	jailer "${b[@]}" --id j1 --exec-file "$TEST_TMP/plain" --uid 1000 --gid 1000
	expect_status 1 "$status" "exec file not executable"
	expect_grep "not an executable file" "$TEST_TMP/err"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid -1 --gid 1000
	expect_status 1 "$status" "bad uid"
	expect_grep "not a valid uid" "$TEST_TMP/err"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid x
	expect_status 1 "$status" "bad gid"
	expect_grep "not a valid gid" "$TEST_TMP/err"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000
	expect_status 1 "$status" "no gid"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --resource-limit cpu=1
	expect_status 1 "$status" "unknown rlimit"
	expect_grep "unknown resource" "$TEST_TMP/err"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --resource-limit fsize=-3
	expect_status 1 "$status" "bad rlimit"
	expect_grep "bad value" "$TEST_TMP/err"
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --cgroup nodot=1
	expect_status 1 "$status" "cgroup name"
	expect_grep "unknown cgroup file" "$TEST_TMP/err"
	expect_no_jail j1
	# these fail after the jail and the cgroup were made: both removed
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --cgroup pids.nosuchfile=1
	expect_status 1 "$status" "unknown cgroup file"
	expect_grep "unknown cgroup file" "$TEST_TMP/err"
	expect_no_jail j1
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --cgroup nosuchctl.max=1
	expect_status 1 "$status" "unknown controller"
	expect_no_jail j1
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --netns "$TEST_TMP/none"
	expect_status 1 "$status" "missing netns"
	expect_no_jail j1
	jailer "${b[@]}" --id j1 --exec-file /bin/true --uid 1000 --gid 1000 --cgroup pids.max=10 \
		--netns /etc/passwd
	expect_status 1 "$status" "netns not a namespace"
	expect_grep "setns" "$TEST_TMP/err"
	expect_no_jail j1
}

test_jailed_helper() {
	jail_needs_root
	build_helper
	mkdir -p "$TEST_TMP/base"
	local id=jt$$
	jailer --chroot-base-dir "$TEST_TMP/base" --id $id --exec-file "$TEST_TMP/bin/jhelper" \
		--uid 1234 --gid 2345 --resource-limit fsize=1048576 --resource-limit no-file=64 --netns "/proc/$$/ns/net" \
		-- one two
	cat "$TEST_TMP/out" "$TEST_TMP/err" >&2
	expect_status 0 "$status" "jailed helper"
	expect_grep "^uid=1234 gid=2345 groups=0$" "$TEST_TMP/out"
	expect_grep "^capeff=000000000 capprm=000000000 bounding=0 nnp=1$" "$TEST_TMP/out"
	expect_grep "^cwd=/$" "$TEST_TMP/out"
	expect_grep "^fsize=1048576 nofile=64$" "$TEST_TMP/out"
	expect_grep "^args=jhelper,one,two$" "$TEST_TMP/out"
	# the root is the jail: the binary and dev, nothing of the host
	local root
	root=$(sed -n 's/^root=//p' "$TEST_TMP/out" | tr ' ' '\n' | grep . | sort | tr '\n' ' ')
	[[ "$root" == "dev jhelper " ]] || fail "jail root shows: $root"
	local jr=$TEST_TMP/base/jhelper/$id/root
	[[ -c $jr/dev/net/tun && -c $jr/dev/urandom ]] || fail "device nodes missing in $jr/dev"
	[[ $(stat -c %u:%g "$jr/dev/net/tun") == 1234:2345 ]] || fail "tun not owned by the jail user"
	[[ $(stat -c %u:%g "$jr/dev/urandom") == 1234:2345 ]] || fail "urandom not owned by the jail user"
	if [[ -e /dev/kvm ]]; then
		[[ -c $jr/dev/kvm ]] || fail "no /dev/kvm in the jail"
	fi
	# the same id again: refused, the existing jail untouched
	jailer --chroot-base-dir "$TEST_TMP/base" --id $id --exec-file "$TEST_TMP/bin/jhelper" --uid 1234 --gid 2345
	expect_status 1 "$status" "same id twice"
	expect_grep "exists already" "$TEST_TMP/err"
	[[ -e $jr/jhelper ]] || fail "the existing jail was removed"
}

test_pid_ns_and_cgroup() {
	jail_needs_root
	build_helper
	[[ -d $JAIL_CG_ROOT/pids || -f $JAIL_CG_ROOT/cgroup.controllers ]] || skip "no pids cgroup controller"
	mkdir -p "$TEST_TMP/base"
	local id=jp$$ cg
	if [[ -f $JAIL_CG_ROOT/cgroup.controllers ]]; then
		cg=$JAIL_CG_ROOT/osprey/$id
	else
		cg=$JAIL_CG_ROOT/pids/osprey/$id
	fi
	"$OSPREY_JAILER" --chroot-base-dir "$TEST_TMP/base" --id $id --exec-file "$TEST_TMP/bin/jhelper" \
		--uid 1234 --gid 2345 --new-pid-ns --cgroup pids.max=17 -- sleep \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	local jpid=$! _
	for _ in $(seq 50); do
		grep -q "^root=" "$TEST_TMP/out" && break
		sleep 0.1
	done
	local procs
	procs=$(wc -l <"$cg/cgroup.procs" 2>/dev/null || echo 0)
	local max
	max=$(cat "$cg/pids.max" 2>/dev/null || true)
	status=0
	wait $jpid || status=$?
	cat "$TEST_TMP/out" "$TEST_TMP/err" >&2
	remove_jail_cgroups $id
	expect_status 0 "$status" "jailed helper in a new pid namespace"
	expect_no_grep "Sanitizer" "$TEST_TMP/err"
	expect_grep "^pid=1$" "$TEST_TMP/out"
	expect_grep "^uid=1234 gid=2345" "$TEST_TMP/out"
	[[ $max == 17 ]] || fail "pids.max in $cg is '$max', expected 17"
	[[ $procs -ge 2 ]] || fail "$cg has $procs processes, expected the jailer and the helper"
}

test_daemonize() {
	jail_needs_root
	build_helper
	mkdir -p "$TEST_TMP/base"
	jailer --chroot-base-dir "$TEST_TMP/base" --id jd$$ --exec-file "$TEST_TMP/bin/jhelper" \
		--uid 1234 --gid 2345 --daemonize
	expect_status 0 "$status" "daemonized"
	[[ ! -s "$TEST_TMP/out" ]] || fail "a daemonized jail wrote to stdout"
}

# osprey itself, jailed: a prepared jail directory holds its libraries
# (ldd) and the guest; the release build ($OSPREY_JAILED: an ASan build
# needs /proc, which the jail does not have) runs hello.elf on the
# software CPU as uid 1234, pid 1 of a new PID namespace.
test_jailed_osprey() {
	jail_needs_root
	[[ -x "${OSPREY_JAILED:-}" ]] || skip "OSPREY_JAILED is not set to a release osprey"
	[[ -f "${GUESTS:-}/hello.elf" ]] || skip "no \$GUESTS/hello.elf"
	local r=$TEST_TMP/base/osprey/jo/root l
	mkdir -p "$r"
	for l in $(ldd "$OSPREY_JAILED" | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$l")"
		cp -L "$l" "$r$l"
	done
	cp "$GUESTS/hello.elf" "$r/hello.elf"
	jailer --chroot-base-dir "$TEST_TMP/base" --id jo --exec-file "$OSPREY_JAILED" \
		--uid 1234 --gid 2345 --new-pid-ns --resource-limit no-file=128 -- \
		run --accel soft --kernel /hello.elf
	cat "$TEST_TMP/out" "$TEST_TMP/err" >&2
	expect_status 0 "$status" "jailed osprey"
	expect_grep "hello from osprey test guest" "$TEST_TMP/out"
	[[ $(stat -c %u "$r/osprey") == 1234 ]] || fail "the jailed osprey is not owned by the jail user"
}

# The cgroup v2 path of the jailer on a real cgroup2 file system: this
# host is v1 (hybrid), so the near-empty unified mount stands in (no
# controllers there; cgroup.max.descendants is a core file every v2
# cgroup has). Not run on a pure v2 host here: there test_pid_ns_and_cgroup
# takes the v2 path itself.
test_cgroup_v2_unified() {
	jail_needs_root
	build_helper
	local u=/sys/fs/cgroup/unified id=jv$$ cg before
	[[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]] || skip "a pure v2 host: test_pid_ns_and_cgroup covers v2"
	[[ $(stat -f -c %T $u 2>/dev/null) == cgroup2fs ]] || skip "no unified cgroup2 mount at $u"
	mkdir -p "$TEST_TMP/base"
	cg=$u/osprey/$id
	before=$(cat $u/cgroup.subtree_control)
	status=0
	OSPREY_CGROUP_ROOT=$u timeout --kill-after=5 30 "$OSPREY_JAILER" --chroot-base-dir "$TEST_TMP/base" \
		--id $id --exec-file "$TEST_TMP/bin/jhelper" --uid 1234 --gid 2345 \
		--cgroup cgroup.max.descendants=3 >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	local max
	max=$(cat "$cg/cgroup.max.descendants" 2>/dev/null || true)
	rmdir "$cg" 2>/dev/null || true
	rmdir "$u/osprey" 2>/dev/null || true
	expect_status 0 "$status" "jailed helper in a v2 cgroup: $(cat "$TEST_TMP/err")"
	expect_grep "^uid=1234 gid=2345" "$TEST_TMP/out"
	[[ $max == 3 ]] || fail "cgroup.max.descendants in $cg is '$max', expected 3"
	[[ $(cat $u/cgroup.subtree_control) == "$before" ]] || fail "controllers enabled on the hybrid unified root"
	# a file v2 does not have: one clear error, nothing left
	id=${id}b
	cg=$u/osprey/$id
	OSPREY_CGROUP_ROOT=$u jailer --chroot-base-dir "$TEST_TMP/base" --id $id --exec-file "$TEST_TMP/bin/jhelper" \
		--uid 1234 --gid 2345 --cgroup pids.max=5
	expect_status 1 "$status" "pids.max on a v2 root without the pids controller"
	expect_grep "unknown cgroup file" "$TEST_TMP/err"
	[[ ! -e $cg ]] || fail "cgroup $cg left behind"
}
