#!/usr/bin/env bash
# osprey-oci vs crun (and runc where installed): create + start + wait +
# delete of the same busybox bundle, runtimes alternated, N rounds;
# prints the median and the ratio to crun, then the same for `run`
# (create, start, wait and delete in one invocation) and the runtimes'
# peak RSS during create.
#   bench/oci.sh [N]        (root; OSPREY_OCI: the runtime binary)
set -euo pipefail

n=${1:-30}
# crun refuses hybrid hosts whose unified mount lists any controller
# (hugetlb, when v1 does not mount it): in a private mount namespace an
# empty file over that list lets it run, and every runtime runs there.
u=/sys/fs/cgroup/unified/cgroup.controllers
if [[ -z ${OSPREY_BENCH_NS:-} && -n $(cat $u 2>/dev/null) && $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]]; then
	export OSPREY_BENCH_NS=1
	exec unshare -m --propagation private bash -c \
		'e=$(mktemp); mount --bind "$e" '"$u"' && exec "$0" "$@"' "$0" "$@"
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
osprey=${OSPREY_OCI:-$here/build/osprey-oci}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

b=$tmp/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/tmp"
cp /bin/busybox "$b/rootfs/bin/"
ln -s busybox "$b/rootfs/bin/true"
cat >"$b/config.json" <<'JSON'
{"ociVersion": "1.0.2",
 "process": {"args": ["/bin/true"], "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0},
  "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
  "noNewPrivileges": true},
 "root": {"path": "rootfs"},
 "hostname": "bench",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
  {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"},
  {"type": "network"}], "resources": {"pids": {"limit": 100}},
  "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]}}
JSON

runtimes=(osprey)
declare -A bin=([osprey]=$osprey)
for r in crun runc; do
	command -v $r >/dev/null || continue
	# runc refuses hybrid cgroup hosts: leave out what cannot run here
	if ! "$r" --root "$tmp/root-$r" run --bundle "$b" probe </dev/null >"$tmp/probe" 2>&1; then
		echo "# $r left out: $(tail -1 "$tmp/probe")"
		"$r" --root "$tmp/root-$r" delete --force probe >/dev/null 2>&1 || true
		continue
	fi
	runtimes+=($r)
	bin[$r]=$(command -v $r)
done

now() { date +%s%N; }

# one create+start+wait+delete cycle; waits on the init's /proc entry
cycle() {
	local rt=$1 id=$2 root=$tmp/root-$1 pid st
	"${bin[$rt]}" --root "$root" create --bundle "$b" --pid-file "$tmp/pid" "$id" </dev/null >/dev/null
	pid=$(cat "$tmp/pid")
	"${bin[$rt]}" --root "$root" start "$id"
	while read -r _ _ st _ <"/proc/$pid/stat" 2>/dev/null && [[ $st != Z ]]; do :; done
	"${bin[$rt]}" --root "$root" delete --force "$id"
}

declare -A t_cycle t_run
for ((i = 0; i < n; i++)); do
	for rt in "${runtimes[@]}"; do
		s=$(now)
		cycle "$rt" "b$i"
		t_cycle[$rt]+="$((($(now) - s) / 1000)) "
		s=$(now)
		"${bin[$rt]}" --root "$tmp/root-$rt" run --bundle "$b" "r$i" </dev/null >/dev/null
		t_run[$rt]+="$((($(now) - s) / 1000)) "
	done
done

median() { tr ' ' '\n' | { grep . || true; } | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
rss() { # peak RSS (KiB) of the runtime process during create
	local rt=$1 r
	/usr/bin/time -f '%M' -o "$tmp/rss" "${bin[$rt]}" --root "$tmp/root-$rt" create --bundle "$b" rss \
		</dev/null >/dev/null 2>&1 || true
	r=$(tail -1 "$tmp/rss" 2>/dev/null || true)
	"${bin[$rt]}" --root "$tmp/root-$rt" delete --force rss >/dev/null 2>&1 || true
	echo "${r:--}"
}

printf '%-8s %14s %8s %14s %8s %10s\n' runtime "cycle_med_us" ratio "run_med_us" ratio "rss_kib"
c0=$(echo "${t_cycle[crun]:-}" | median)
r0=$(echo "${t_run[crun]:-}" | median)
for rt in "${runtimes[@]}"; do
	c=$(echo "${t_cycle[$rt]}" | median)
	r=$(echo "${t_run[$rt]}" | median)
	m=$( [[ -x /usr/bin/time ]] && rss "$rt" || echo "-")
	printf '%-8s %14s %8s %14s %8s %10s\n' "$rt" "$c" \
		"$([[ -n $c0 ]] && awk -v a="$c" -v b="$c0" 'BEGIN{printf "%.2f", a/b}' || echo -)" "$r" \
		"$([[ -n $r0 ]] && awk -v a="$r" -v b="$r0" 'BEGIN{printf "%.2f", a/b}' || echo -)" "$m"
done
