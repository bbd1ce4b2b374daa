#!/usr/bin/env bash
# The Open Containers runtime conformance tests (runtime-tools'
# validation/ programs) against osprey-oci and crun on this host; prints
# per test pass/fail for both and the totals side by side.
#
#   scripts/oci-conformance.sh [TEST...]     (root; ~10-15 minutes for all)
#
# Environment:
#   OSPREY_OCI              the runtime under test (default build/osprey-oci)
#   OCI_CONFORMANCE_OTHER   the runtime compared with (default crun)
#   OCI_RUNTIME_TOOLS_SRC   a runtime-tools source tree with validation/
#   OCI_CONFORMANCE_WORK    build directory (default /tmp/osprey-oci-conformance)
#   OCI_CONFORMANCE_TIMEOUT seconds per test program (default 120)
#
# The validation programs come from runtime-tools, the version Debian
# packages (golang-github-opencontainers-runtime-tools-dev). Debian's
# binary package ships only the library (no validation/ and no
# cmd/runtimetest), so the sources are found, in order: $OCI_RUNTIME_TOOLS_SRC,
# the package's tree if it has validation/, `apt-get source` (needs a
# deb-src entry), or a local git clone of the upstream repository at the
# commit Debian's version names (its vendor/ makes the build offline).
# Everything is built offline (GOFLAGS=-mod=vendor, or GO111MODULE=off
# against /usr/share/gocode); nothing is downloaded but Debian packages.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
osprey=${OSPREY_OCI:-$here/build/osprey-oci}
other=${OCI_CONFORMANCE_OTHER:-crun}
work=${OCI_CONFORMANCE_WORK:-/tmp/osprey-oci-conformance}
tmo=${OCI_CONFORMANCE_TIMEOUT:-120}
pkg=golang-github-opencontainers-runtime-tools-dev
gocode=/usr/share/gocode/src/github.com/opencontainers/runtime-tools

die() {
	echo "oci-conformance: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || die "needs root (the tests create containers)"

# crun refuses hybrid cgroup hosts whose unified mount lists controllers;
# in a private mount namespace an empty file over that list lets it run.
# Both runtimes run in that same namespace.
u=/sys/fs/cgroup/unified/cgroup.controllers
if [[ -z ${OSPREY_CONFORMANCE_NS:-} && -n $(cat $u 2>/dev/null) &&
	$(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]]; then
	export OSPREY_CONFORMANCE_NS=1
	exec unshare -m --propagation private bash -c \
		'e=$(mktemp); mount --bind "$e" '"$u"' && exec "$0" "$@"' "$0" "$@"
fi

[[ -x $osprey ]] || die "$osprey: not built (make build/osprey-oci)"
other_bin=$(command -v "$other" || true)

# --- what it needs ---------------------------------------------------------
need=()
command -v go >/dev/null || need+=(golang-go)
dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
[[ -n $other_bin || $other != crun ]] || need+=(crun)
command -v tar >/dev/null || need+=(tar)
if ((${#need[@]})); then
	echo "# installing ${need[*]}" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends "${need[@]}" >&2; } ||
		die "cannot install ${need[*]}"
fi
other_bin=$(command -v "$other" || true)
[[ -n $other_bin ]] || echo "# $other not found: only osprey-oci runs" >&2

# --- the sources -------------------------------------------------------------
mkdir -p "$work"
src=""
gomode=vendor
debver=$(dpkg-query -W -f '${Version}' $pkg 2>/dev/null || true)
commit=${debver##*.g}
commit=${commit%%-*}
if [[ -n ${OCI_RUNTIME_TOOLS_SRC:-} ]]; then
	src=$OCI_RUNTIME_TOOLS_SRC
	[[ -d $src/validation ]] || die "$src has no validation/"
elif [[ -d $gocode/validation ]]; then
	src=$gocode
	gomode=gopath
elif [[ -d $work/src/validation ]]; then
	src=$work/src
else
	rm -rf "$work/src" "$work/apt"
	mkdir -p "$work/apt"
	if (cd "$work/apt" && apt-get source -qq --download-only "${pkg%-dev}" >/dev/null 2>&1 &&
		dpkg-source -x ./*.dsc tree >/dev/null 2>&1) && [[ -d $work/apt/tree/validation ]]; then
		mv "$work/apt/tree" "$work/src"
	else
		for g in ${OCI_RUNTIME_TOOLS_GIT:-} /work/.mirror/opencontainers+runtime-tools/repo; do
			[[ -n $g ]] && git -C "$g" cat-file -e "${commit:-HEAD}^{commit}" 2>/dev/null || continue
			mkdir -p "$work/src"
			git -C "$g" archive "${commit:-HEAD}" | tar -x -C "$work/src"
			break
		done
	fi
	[[ -d $work/src/validation ]] ||
		die "no runtime-tools sources with validation/: Debian's $pkg lacks them and" \
			"its source package is not reachable; set OCI_RUNTIME_TOOLS_SRC or OCI_RUNTIME_TOOLS_GIT" \
			"(a clone of github.com/opencontainers/runtime-tools, commit ${commit:-?})"
	src=$work/src
fi
echo "# runtime-tools: $src (Debian $pkg ${debver:-not installed})" >&2

# --- build (offline) ---------------------------------------------------------
bin=$work/bin
mkdir -p "$bin"
export GOCACHE=$work/gocache GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
gobuild() { # out pkgdir
	if [[ $gomode == gopath ]]; then
		(cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode go build \
			-tags "netgo osusergo" -o "$1" "./$2")
	else
		(cd "$src" && GOFLAGS=-mod=vendor go build -tags "netgo osusergo" -o "$1" "./$2")
	fi
}
if [[ ! -e $bin/.stamp || -n $(cd "$src" && find validation cmd/runtimetest -name '*.go' \
	-newer "$bin/.stamp" 2>/dev/null | head -1) ]]; then
	echo "# building runtimetest and the validation programs (about a minute)" >&2
	gobuild "$bin/runtimetest" cmd/runtimetest || die "runtimetest does not build"
	for d in "$src"/validation/*/; do
		n=$(basename "$d")
		[[ $n == util ]] && continue
		gobuild "$bin/$n" "validation/$n" || die "validation/$n does not build"
	done
	touch "$bin/.stamp"
fi
# the programs look for runtimetest and rootfs-<arch>.tar.gz in their cwd
run=$work/run
mkdir -p "$run"
cp "$bin/runtimetest" "$run/"
cp "$src/rootfs-amd64.tar.gz" "$run/" 2>/dev/null || die "$src: no rootfs-amd64.tar.gz"

# --- run -----------------------------------------------------------------------
tests=("$@")
if ((${#tests[@]} == 0)); then
	for f in "$bin"/*; do
		n=$(basename "$f")
		[[ $n == runtimetest ]] || tests+=("$n")
	done
fi

# one program against one runtime: "ok P/T" or "FAIL P/T" (TAP assertions
# passed / planned), or "ok exit-0" / "FAIL exit-N" for the programs that
# print no TAP
runone() { # runtime test logfile
	local rc=0 okn notok plan
	(cd "$run" && RUNTIME=$1 timeout -k 5 "$tmo" "$bin/$2") >"$3" 2>&1 || rc=$?
	okn=$(grep -c '^ok ' "$3" || true)
	notok=$(grep -c '^not ok ' "$3" || true)
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$3" | tail -1)
	[[ -n $plan ]] || plan=$((okn + notok))
	if ! grep -q '^TAP version' "$3"; then
		# a few programs (the *_fail ones, process_capabilities) print
		# no TAP: their exit status is the result
		if ((rc == 0)); then echo "ok exit-0"; elif ((rc == 124 || rc == 137)); then
			echo "TIMEOUT 0/0"; else echo "FAIL exit-$rc"; fi
		return
	fi
	if ((rc == 0 && notok == 0 && okn == plan)) &&
		{ ((plan > 0)) || grep -q '^1\.\.0 # [Ss][Kk][Ii][Pp]' "$3"; }; then
		echo "ok $okn/$plan"
	elif ((rc == 124 || rc == 137)); then
		echo "TIMEOUT $okn/$plan"
	else
		echo "FAIL $okn/$plan"
	fi
}

logs=$work/logs
rm -rf "$logs"
mkdir -p "$logs/osprey" "$logs/other"
declare -i np=0 cp=0 na=0 ca=0 nt=0 at=0
printf '%-40s %-16s %-16s\n' test osprey-oci "$other"
for t in "${tests[@]}"; do
	[[ -x $bin/$t ]] || die "no test '$t' (see $bin)"
	o=$(runone "$osprey" "$t" "$logs/osprey/$t.tap")
	if [[ -n $other_bin ]]; then
		c=$(runone "$other_bin" "$t" "$logs/other/$t.tap")
	else
		c="-"
	fi
	printf '%-40s %-16s %-16s\n' "$t" "$o" "$c"
	nt+=1
	[[ $o == ok* ]] && np+=1
	[[ $c == ok* ]] && cp+=1
	o=${o#* }
	c=${c#* }
	[[ $o == */* ]] && na+=${o%/*} && at+=${o#*/}
	[[ $c == */* ]] && ca+=${c%/*}
done
echo
echo "programs passed: osprey $np/$nt, $other $cp/$nt"
echo "assertions ok:   osprey $na, $other $ca (osprey's plans total $at)"
echo "TAP logs: $logs/{osprey,other}/<test>.tap"
