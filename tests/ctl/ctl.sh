# osprey-ctl against a real API server (`osprey --api-sock PATH`): usage
# errors, a missing socket, configuration and reading it back, the
# server's fault messages, and a whole life cycle with tiny test guests
# (configure, start, pause, resume, Ctrl-Alt-Del, the guest's exit).
# Needs: $OSPREY (the server under test), $GUESTS (build/guest) and
# osprey-ctl ($OSPREY_CTL, default build/osprey-ctl).

CTL_SUITE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${OSPREY_CTL:=$CTL_SUITE_ROOT/build/osprey-ctl}"
: "${GUESTS:=$CTL_SUITE_ROOT/build/guest}"
# shellcheck source=../lib/api_server.sh
source "$CTL_SUITE_ROOT/tests/lib/api_server.sh"

# ctl ARGS...: osprey-ctl on $SOCK; sets $status, output in ctl.out/ctl.err.
ctl() {
	status=0
	timeout --kill-after=5 30 "$OSPREY_CTL" --sock "$SOCK" "$@" \
		>"$TEST_TMP/ctl.out" 2>"$TEST_TMP/ctl.err" </dev/null || status=$?
}

# ctl_ok ARGS...: osprey-ctl, which must succeed without a word on stderr.
ctl_ok() {
	ctl "$@"
	if [[ $status -ne 0 || -s "$TEST_TMP/ctl.err" ]]; then
		cat "$TEST_TMP/ctl.err" >&2
		fail "osprey-ctl $*: exit status $status"
	fi
}

# ctl_fails PATTERN ARGS...: exactly one error line matching PATTERN, status 1.
ctl_fails() {
	local pattern=$1
	shift
	ctl "$@"
	expect_status 1 "$status" "osprey-ctl $*"
	expect_lines 1 "$TEST_TMP/ctl.err"
	expect_grep "^osprey-ctl: error: .*$pattern" "$TEST_TMP/ctl.err"
}

# expect_json FILE PYTHON-EXPR: the expression over the parsed file (d) is true.
expect_json() {
	python3 - "$1" "$2" <<'PY' || {
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
		cat "$1" >&2
		fail "$(basename "$1"): not true: $2"
	}
}

server_stop() {
	if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
}

# Starts the server on $SOCK, its stdout (the guest console) in vm.out,
# stderr in vm.err; returns once it answers GET /.
server_start() {
	local rc=0
	SOCK=$TEST_TMP/api.sock
	api_server_launch "$TEST_TMP/vm.out" "$TEST_TMP/vm.err" "$@"
	trap 'server_stop; rm -rf "$TEST_TMP"' EXIT
	api_server_poll 200 0.05 ctl_answers || rc=$?
	if [[ $rc -eq 1 ]]; then
		cat "$TEST_TMP/vm.err" >&2
		if grep -qiE "unknown|unrecognized|usage" "$TEST_TMP/vm.err"; then
			skip "this osprey has no --api-sock"
		fi
		fail "the server exited before its socket was ready"
	fi
	[[ $rc -eq 0 ]] || fail "the API socket did not come up in 10 s"
}

ctl_answers() {
	[[ -S "$SOCK" ]] && "$OSPREY_CTL" --sock "$SOCK" info >/dev/null 2>&1
}

# server_wait LIMIT_S: waits for the server to exit; sets $status.
server_wait() {
	if ! api_server_exits "$1"; then
		tail -n 20 "$TEST_TMP/vm.out" "$TEST_TMP/vm.err" >&2
		fail "the server still runs after $1 s"
	fi
	status=0
	wait "$SERVER_PID" || status=$?
	SERVER_PID=""
	no_sanitizer_report
}

no_sanitizer_report() {
	if grep -q "Sanitizer" "$TEST_TMP/vm.err"; then
		cat "$TEST_TMP/vm.err" >&2
		fail "sanitizer report from the server"
	fi
}

# wait_for PATTERN FILE LIMIT_S
wait_for() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE -- "$1" "$2" && return 0
		sleep 0.05
	done
	tail -n 20 "$2" >&2
	fail "'$1' did not appear in $(basename "$2") within $3 s"
}

need_guests() {
	[[ -f "$GUESTS/ticker.elf" && -f "$GUESTS/hello.elf" ]] || fail "no test guests (make guests)"
}

last_tick() {
	sed -n 's/^tick \([0-9]*\)$/\1/p' "$TEST_TMP/vm.out" | tail -n 1
}

# ---- without a server ----

test_help() {
	local c
	status=0
	"$OSPREY_CTL" --help >"$TEST_TMP/out" 2>&1 || status=$?
	expect_status 0 "$status" "osprey-ctl --help"
	for c in configure start pause resume stop config metrics balloon balloon-stats \
		info version raw; do
		expect_grep "^  $c " "$TEST_TMP/out"
		status=0
		"$OSPREY_CTL" "$c" --help >"$TEST_TMP/out.$c" 2>&1 || status=$?
		expect_status 0 "$status" "osprey-ctl $c --help"
		expect_grep "^usage: osprey-ctl $c" "$TEST_TMP/out.$c"
	done
	"$OSPREY_CTL" --version >"$TEST_TMP/out" 2>&1
	expect_grep '^osprey-ctl [0-9]+\.[0-9]+' "$TEST_TMP/out"
}

test_missing_socket() {
	SOCK=$TEST_TMP/nobody-here.sock
	ctl_fails "cannot connect to $SOCK: No such file or directory" info
	# A socket file nobody listens on.
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
	ctl_fails "cannot connect to $SOCK: Connection refused" start
}

test_no_socket_given() {
	status=0
	env -u OSPREY_API_SOCK "$OSPREY_CTL" info >"$TEST_TMP/out" 2>"$TEST_TMP/err" || status=$?
	expect_status 2 "$status" "osprey-ctl without --sock"
	expect_lines 1 "$TEST_TMP/err"
	expect_grep '^osprey-ctl: error: no API socket' "$TEST_TMP/err"
}

test_usage_errors() {
	SOCK=$TEST_TMP/unused.sock
	local args
	while IFS='|' read -r args pattern; do
		# shellcheck disable=SC2086 # word splitting intended
		ctl $args
		expect_status 2 "$status" "osprey-ctl $args"
		expect_lines 1 "$TEST_TMP/ctl.err"
		expect_grep "^osprey-ctl: error: .*$pattern" "$TEST_TMP/ctl.err"
	done <<'EOF'
frobnicate|unknown command 'frobnicate'
configure|nothing to configure
configure --cpus two|--cpus 'two': not a number
configure --memory 1.5G|--memory '1.5G': not a size
configure --disk a.img,bogus|unknown option 'bogus'
configure --net mac=06:00:00:00:00:01|tap=NAME is required
configure --initrd /i|need --kernel
start now|unexpected argument 'now'
raw GET|needs METHOD PATH
balloon --target lots|--target 'lots'
--timeout 0 info|--timeout '0'
EOF
}

# ---- with a server, no guest ----

test_info_and_version() {
	server_start
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Not started" and "vmm_version" in d and "app_name" in d'
	ctl_ok version
	expect_json "$TEST_TMP/ctl.out" 'isinstance(d.get("firecracker_version"), str)'
	# OSPREY_API_SOCK instead of --sock
	OSPREY_API_SOCK=$SOCK "$OSPREY_CTL" info >"$TEST_TMP/out"
	expect_grep '"state": "Not started"' "$TEST_TMP/out"
	# The answer is pretty-printed.
	expect_grep '^  "' "$TEST_TMP/out"
	# --verbose shows the requests on stderr.
	ctl --verbose configure --cpus 1 --memory 64
	expect_status 0 "$status" "osprey-ctl --verbose configure"
	expect_grep '^> PUT /machine-config \{"vcpu_count":1,"mem_size_mib":64\}$' "$TEST_TMP/ctl.err"
	expect_grep '^< 204$' "$TEST_TMP/ctl.err"
}

test_configure_shows_in_config() {
	server_start
	: >"$TEST_TMP/root.img"
	truncate -s 1M "$TEST_TMP/root.img" "$TEST_TMP/data.img"
	ctl_ok configure --kernel "$GUESTS/hello.elf" --cmdline "quiet token=ctl-$$" \
		--cpus 2 --memory 96M --disk "$TEST_TMP/root.img,root" \
		--disk "$TEST_TMP/data.img,ro,id=data" --vsock "cid=7,uds=$TEST_TMP/v.sock"
	[[ ! -s "$TEST_TMP/ctl.out" ]] || fail "configure printed something on success"
	ctl_ok config
	local f=$TEST_TMP/ctl.out k=$GUESTS/hello.elf
	expect_json "$f" "d['boot-source']['kernel_image_path'] == '$k'"
	expect_json "$f" "'token=ctl-$$' in d['boot-source']['boot_args']"
	expect_json "$f" "d['machine-config']['vcpu_count'] == 2 and d['machine-config']['mem_size_mib'] == 96"
	expect_json "$f" "[x['drive_id'] for x in d['drives']] == ['disk0', 'data']"
	expect_json "$f" "d['drives'][0]['is_root_device'] and not d['drives'][0]['is_read_only']"
	expect_json "$f" "d['drives'][1]['is_read_only'] and d['drives'][1]['path_on_host'] == '$TEST_TMP/data.img'"
	expect_json "$f" "d['vsock']['guest_cid'] == 7 and d['vsock']['uds_path'] == '$TEST_TMP/v.sock'"
	# Only --memory: PATCH keeps the vCPU count.
	ctl_ok configure --memory 64
	ctl_ok raw GET /machine-config
	expect_json "$TEST_TMP/ctl.out" "d['vcpu_count'] == 2 and d['mem_size_mib'] == 64"
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Not started"'
	server_stop
	no_sanitizer_report
}

test_server_faults() {
	server_start
	# Each bad request: the server's fault_message on one line, status 1.
	ctl_fails 'PUT /machine-config: HTTP 400: .+' configure --cpus 0 --memory 128
	ctl_fails 'HTTP 400: .*(JSON|json)' raw PUT /boot-source '{"kernel_image_path": '
	ctl_fails 'HTTP 400: .*Invalid request method and/or path' raw GET /no-such-thing
	ctl_fails 'HTTP 400: .+' raw PUT /actions '{"action_type":"Explode"}'
	ctl_fails 'HTTP 400: .+' raw PATCH /vm '{"state":"Sideways"}'
	# The first failing request stops configure: nothing after it is sent.
	ctl_fails 'PUT /machine-config: HTTP 400' configure --cpus 0 --memory 128 \
		--disk "$TEST_TMP/x.img,id=late"
	ctl_ok config
	expect_json "$TEST_TMP/ctl.out" "'late' not in [x['drive_id'] for x in d.get('drives') or []]"
	# No kernel configured: InstanceStart is refused.
	ctl_fails 'PUT /actions: HTTP 400: .+' start
	# A kernel that is not there: osprey finds out at InstanceStart.
	ctl_ok configure --kernel "$TEST_TMP/no-such-kernel"
	ctl_fails "PUT /actions: HTTP 400: .*no-such-kernel" start
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Not started"'
	# Actions that need a running machine or a metrics file.
	ctl_fails 'PUT /actions: HTTP 400: .+' stop
	ctl_fails 'PATCH /vm: HTTP 400: .+' pause
	ctl_fails 'PUT /actions: HTTP 400: .+' metrics
	ctl_fails 'GET /balloon: HTTP 400: .+' balloon
	# The server survives all of it.
	ctl_ok info
	server_stop
	no_sanitizer_report
}

test_raw_mode() {
	server_start
	ctl_ok raw PUT /machine-config '{"vcpu_count": 3, "mem_size_mib": 80}'
	[[ ! -s "$TEST_TMP/ctl.out" ]] || fail "a 204 answer printed something"
	ctl_ok raw GET /machine-config
	expect_json "$TEST_TMP/ctl.out" 'd["vcpu_count"] == 3 and d["mem_size_mib"] == 80'
	server_stop
}

test_balloon() {
	server_start
	ctl_ok configure --balloon 32,deflate-on-oom,stats=2
	ctl_ok balloon
	expect_json "$TEST_TMP/ctl.out" 'd["amount_mib"] == 32 and d["deflate_on_oom"] and d["stats_polling_interval_s"] == 2'
	ctl_ok balloon --target 16M
	ctl_ok balloon-stats --interval 5
	ctl_ok balloon
	expect_json "$TEST_TMP/ctl.out" 'd["amount_mib"] == 16 and d["stats_polling_interval_s"] == 5'
	ctl_ok config
	expect_json "$TEST_TMP/ctl.out" 'd["balloon"]["amount_mib"] == 16'
	# Statistics come from a running guest.
	ctl_fails 'GET /balloon/statistics: HTTP 400: .+' balloon-stats
	server_stop
	no_sanitizer_report
}

# ---- with test guests ----

test_guest_runs_to_its_exit() {
	need_guests
	server_start
	ctl_ok configure --kernel "$GUESTS/hello.elf" --cmdline "token=ctl-$$" --memory 32
	ctl_ok start
	server_wait 20
	expect_status 0 "$status" "osprey after the guest powered off"
	expect_grep '^hello from osprey test guest' "$TEST_TMP/vm.out"
	expect_grep "^cmdline: .*token=ctl-$$" "$TEST_TMP/vm.out"
}

test_pause_resume_stop() {
	local paused_at later
	need_guests
	server_start
	ctl_ok configure --kernel "$GUESTS/ticker.elf" --memory 32
	ctl_ok start
	wait_for '^tick 3$' "$TEST_TMP/vm.out" 20
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Running"'
	# Pre-boot requests are refused once the machine runs.
	ctl_fails 'PUT /boot-source: HTTP 400: .+' configure --kernel "$GUESTS/hello.elf"
	ctl_fails 'PUT /actions: HTTP 400: .+' start

	ctl_ok pause
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Paused"'
	sleep 0.2 # a line on its way out
	paused_at=$(last_tick)
	sleep 1
	[[ $(last_tick) == "$paused_at" ]] ||
		fail "the guest ticked while paused: tick $paused_at, then $(last_tick)"
	ctl_fails 'PATCH /vm: HTTP 400: .*already paused' pause

	ctl_ok resume
	ctl_ok info
	expect_json "$TEST_TMP/ctl.out" 'd["state"] == "Running"'
	wait_for "^tick $((paused_at + 3))\$" "$TEST_TMP/vm.out" 20
	later=$(last_tick)

	# Ctrl-Alt-Del reaches the guest's i8042, and the guest powers off.
	ctl_ok stop
	server_wait 20
	expect_status 0 "$status" "osprey after the guest powered off"
	expect_grep '^ctrl-alt-del received$' "$TEST_TMP/vm.out"
	expect_no_grep 'ticker: timeout' "$TEST_TMP/vm.out"
	[[ $(last_tick) -ge $later ]] || fail "ticks went backwards"
	# The socket goes with the server.
	ctl_fails 'cannot connect' info
}
