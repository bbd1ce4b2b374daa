# The API server (osprey --api-sock): the real binary driven over its Unix
# socket with curl. Status codes and bodies of every endpoint, bad input
# over HTTP (the server keeps serving), socket handling, flags, and boots
# of the tiny test guests through the API (start, pause/resume,
# Ctrl-Alt-Del, exit statuses) and from a config file.
# Needs: $OSPREY, $GUESTS (build/guest), curl, python3.

# shellcheck source=../lib/api_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/api_server.sh"

SOCK=""
SERVER_PID=""

# Starts osprey --api-sock in the background (extra flags in "$@").
start_server() {
	SOCK="$TEST_TMP/api.sock"
	api_server_launch "$TEST_TMP/out" "$TEST_TMP/err" --log-level info "$@"
	# (A stale socket file may be there before osprey replaces it.)
	api_server_poll 100 0.1 curl -s -o /dev/null --max-time 2 --unix-socket "$SOCK" \
		http://localhost/version && return 0
	cat "$TEST_TMP/err" >&2
	fail "the API socket does not answer"
}

# Waits for the server to exit (at most $1 seconds); sets $status.
wait_server() {
	if ! api_server_exits "$1"; then
		kill -KILL "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null
		fail "osprey did not exit within $1 s"
	fi
	status=0
	wait "$SERVER_PID" || status=$?
	if grep -q "Sanitizer" "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait_server 10
	expect_status 143 "$status" "osprey after SIGTERM"
}

# api METHOD PATH [BODY]: sets $code; the body goes to $TEST_TMP/body.
api() {
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 20 --unix-socket "$SOCK"
		-X "$1" "http://localhost$2")
	[[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	code=$(curl "${args[@]}") || code="curl-failed-$?"
}

expect_code() { # CODE METHOD PATH [BODY]
	local want=$1
	shift
	api "$@"
	[[ "$code" == "$want" ]] || fail "$1 $2: status $code, expected $want: $(cat "$TEST_TMP/body")"
}

expect_body() { # pattern
	grep -qE -- "$1" "$TEST_TMP/body" || fail "body '$(cat "$TEST_TMP/body")' lacks '$1'"
}

expect_fault() { # METHOD PATH BODY PATTERN
	expect_code 400 "$1" "$2" "$3"
	expect_body '^\{"fault_message":"'
	expect_body "$4"
}

alive() {
	expect_code 200 GET /
	kill -0 "$SERVER_PID" || fail "osprey is gone"
}

test_get_endpoints() {
	start_server --id vm-test
	expect_code 200 GET /
	expect_body '"id":"vm-test"'
	expect_body '"state":"Not started"'
	expect_body '"app_name":"osprey"'
	expect_code 200 GET /version
	expect_body '"firecracker_version":"[0-9.]+"'
	expect_code 200 GET /machine-config
	expect_body '"vcpu_count":1'
	expect_body '"mem_size_mib":128'
	expect_code 200 GET /vm/config
	expect_body '"boot-source":null'
	expect_body '"drives":\[\]'
	expect_code 200 GET /mmds
	expect_body '^\{\}$'
	expect_fault GET /balloon "" 'no balloon device'
	# Query strings are ignored.
	expect_code 200 GET '/version?x=1'
	stop_server
	[[ ! -e "$SOCK" ]] || fail "the socket file is left behind"
}

test_configuration_endpoints() {
	start_server
	expect_code 204 PUT /boot-source '{"kernel_image_path": "/vmlinux", "initrd_path": "/initrd", "boot_args": "console=ttyS0"}'
	expect_code 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": false, "track_dirty_pages": true}'
	expect_code 204 PATCH /machine-config '{"mem_size_mib": 300}'
	expect_code 204 PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "/r.ext4", "is_root_device": true, "is_read_only": false, "cache_type": "Writeback", "rate_limiter": {"bandwidth": {"size": 1048576, "refill_time": 100}}}'
	expect_code 204 PUT /drives/data '{"drive_id": "data", "path_on_host": "/d.img", "is_root_device": false, "is_read_only": true}'
	expect_code 204 PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "06:00:ac:10:00:02", "tx_rate_limiter": {"ops": {"size": 100, "refill_time": 1000}}}'
	expect_code 204 PUT /vsock '{"guest_cid": 3, "uds_path": "/tmp/v.sock"}'
	expect_code 204 PUT /entropy '{"rate_limiter": {"bandwidth": {"size": 1000, "refill_time": 100}}}'
	expect_code 204 PUT /serial "{\"serial_out_path\": \"$TEST_TMP/serial.log\"}"
	expect_code 204 PUT /logger '{"level": "Info", "show_level": true}'
	expect_code 204 PUT /balloon '{"amount_mib": 16, "deflate_on_oom": true, "stats_polling_interval_s": 1}'
	expect_code 204 PATCH /balloon '{"amount_mib": 32}'
	expect_code 204 PATCH /balloon/statistics '{"stats_polling_interval_s": 2}'
	expect_code 200 GET /balloon
	expect_body '"amount_mib":32'
	expect_body '"stats_polling_interval_s":2'
	expect_fault GET /balloon/statistics "" 'once the microVM runs'
	expect_code 204 PUT /mmds '{"latest": {"meta-data": {"ami-id": "ami-1"}}}'
	expect_code 204 PATCH /mmds '{"latest": {"meta-data": {"hostname": "vm"}}}'
	expect_code 200 GET /mmds
	expect_body '"ami-id":"ami-1"'
	expect_body '"hostname":"vm"'
	# metrics: FlushMetrics writes a line whose api_server group counts
	# the requests answered so far (2xx and 4xx) and their latency.
	expect_code 204 PUT /metrics "{\"metrics_path\": \"$TEST_TMP/metrics.json\"}"
	expect_code 204 PUT /actions '{"action_type": "FlushMetrics"}'
	python3 - "$TEST_TMP/metrics.json" <<'PY' || fail "metrics: $(tail -c 400 "$TEST_TMP/metrics.json")"
import json, sys
m = json.loads(open(sys.argv[1]).read().splitlines()[-1])["api_server"]
assert m["requests"] >= 20 and m["status_2xx"] >= 19 and m["status_4xx"] >= 1, m
assert m["latency_us_sum"] > 0 and 0 < m["latency_us_max"] <= m["latency_us_sum"], m
PY
	expect_code 200 GET /vm/config
	expect_body '"kernel_image_path":"/vmlinux"'
	expect_body '"boot_args":"console=ttyS0"'
	expect_body '"vcpu_count":2'
	expect_body '"mem_size_mib":300'
	expect_body '"track_dirty_pages":true'
	expect_body '"drive_id":"rootfs"'
	expect_body '"drive_id":"data"'
	expect_body '"cache_type":"Writeback"'
	expect_body '"bandwidth":\{"size":1048576,"one_time_burst":0,"refill_time":100\}'
	expect_body '"host_dev_name":"tap0"'
	expect_body '"guest_mac":"06:00:ac:10:00:02"'
	expect_body '"guest_cid":3'
	expect_body '"entropy":\{"rate_limiter"'
	expect_body '"logger":\{"level":"Info"'
	# Pre-boot: PATCH of drives and interfaces is post-boot only.
	expect_fault PATCH /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "/x"}' 'only after InstanceStart'
	expect_fault PATCH /network-interfaces/eth0 '{"iface_id": "eth0"}' 'only after InstanceStart'
	# Not supported: clear 400s.
	# Snapshots: create needs a started, paused machine; load a fresh process.
	expect_fault PUT /snapshot/create '{"mem_file_path": "/m", "snapshot_path": "/s"}' 'has not been started'
	expect_fault PUT /snapshot/load '{"snapshot_path": "/s", "mem_file_path": "/m"}' 'boot-specific resources'
	expect_fault PUT /mmds/config '{"network_interfaces": ["eth0"]}' 'not supported yet'
	expect_fault PUT /cpu-config '{}' 'not supported yet'
	# Actions that need a running machine.
	expect_fault PATCH /vm '{"state": "Paused"}' 'not been started'
	expect_fault PUT /actions '{"action_type": "SendCtrlAltDel"}' 'not running'
	alive
	stop_server
}

test_bad_input_over_http() {
	start_server
	expect_fault PUT /machine-config '{"vcpu_count": 2,' 'malformed JSON'
	expect_fault PUT /machine-config '{"vcpu_count": 2' 'malformed JSON'
	expect_fault PUT /machine-config 'garbage' 'malformed JSON'
	expect_fault PUT /machine-config '[]' 'must be a JSON object'
	expect_fault PUT /machine-config '{"vcpu_count": "2", "mem_size_mib": 128}' 'invalid body'
	expect_fault PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 128, "foo": 1}' 'left unpacked: foo'
	expect_fault PUT /machine-config '{"vcpu_count": 0, "mem_size_mib": 128}' 'vcpu_count must be from 1'
	expect_fault PUT /machine-config '{"vcpu_count": 1000, "mem_size_mib": 128}' 'vcpu_count must be from 1'
	expect_fault PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 0}' 'mem_size_mib must be at least 1'
	expect_fault PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 99999999}' 'more than the host has'
	expect_fault PUT /boot-source '{"kernel_image_path": 42}' 'invalid body'
	expect_fault PUT /drives/x '{"drive_id": "y", "path_on_host": "/x", "is_root_device": false}' 'does not match'
	expect_fault PUT /actions '{"action_type": "Explode"}' 'unknown action_type'
	expect_fault PUT /actions '' 'body is required'
	# Unknown paths and methods: 400, as Firecracker.
	expect_fault GET /no/such/path "" 'Invalid request method and/or path'
	expect_fault DELETE /machine-config "" 'Invalid request method and/or path'
	expect_fault POST /actions '{"action_type": "InstanceStart"}' 'Invalid request method and/or path'
	# Oversize bodies: with a Content-Length, and chunked.
	head -c 60000 /dev/zero | tr '\0' ' ' >"$TEST_TMP/big"
	code=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
		--data-binary @"$TEST_TMP/big" http://localhost/mmds)
	[[ "$code" == 400 ]] || fail "oversize body: status $code"
	expect_body 'larger than the limit of 51200 bytes'
	code=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
		-H 'Transfer-Encoding: chunked' --data-binary @"$TEST_TMP/big" http://localhost/mmds)
	[[ "$code" == 400 ]] || fail "oversize chunked body: status $code"
	expect_body 'larger than the limit'
	# A body cut short (Content-Length promises more, the client hangs up),
	# a request line of garbage, and a connection closed at once.
	python3 - "$SOCK" <<'PY'
import socket, sys
def send(data, read=True):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    if read:
        s.settimeout(2)
        try:
            s.recv(4096)
        except OSError:
            pass
    s.close()
send(b'PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"vcpu', read=False)
send(b'\x00\x01garbage\r\n\r\n')
send(b'', read=False)
send(b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n')
PY
	# Nothing was changed, and the server still answers.
	expect_code 200 GET /machine-config
	expect_body '"vcpu_count":1'
	alive
	stop_server
}

# The HTTP layer itself (src/api/server.c): pipelining, keep-alive,
# Connection: close, malformed and oversize requests, chunked bodies,
# Expect: 100-continue, many connections and the connection limit,
# stalled and vanished clients.
test_http_connections() {
	start_server
	python3 - "$SOCK" <<'PY' || fail "HTTP connection handling"
import socket, sys, time
sock = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(5); return s
def readall(s):
    data = b''
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d: break
        data += d
    return data
def check(cond, what):
    if not cond:
        print("FAIL:", what); sys.exit(1)
# pipelined, in order, last with Connection: close
s = conn()
s.sendall(b'GET /version HTTP/1.1\r\nHost: x\r\n\r\n'
          b'PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\n{"vcpu_count":3,"mem_size_mib":64}\n'
          b'GET /machine-config?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
          b'GET /version HTTP/1.1\r\nHost: x\r\n\r\n')
r = readall(s)
check(r.count(b'HTTP/1.1 ') == 3, "3 answers to pipelined requests, none after Connection: close: %r" % r)
i1, i2, i3 = r.find(b'firecracker_version'), r.find(b'204 No Content'), r.find(b'"vcpu_count":3')
check(0 <= i1 < i2 < i3, "answers in order: %r" % r)
check(b'Connection: close' in r, "Connection: close answered")
# keep-alive: two requests one after the other on one connection
s = conn()
for _ in range(2):
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    d = s.recv(65536)
    check(d.startswith(b'HTTP/1.1 200 OK') and b'Content-Length: ' in d and b'application/json' in d, "keep-alive %r" % d)
s.close()
# HEAD: the headers of the answer without its body; the connection goes on
s = conn(); s.sendall(b'HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /version HTTP/1.1\r\nConnection: close\r\n\r\n')
r = readall(s)
check(r.count(b'HTTP/1.1 ') == 2 and r.split(b'\r\n\r\n')[1].startswith(b'HTTP/1.1 200'), "HEAD: %r" % r)
# malformed request line: 400 with a fault message, then closed
s = conn(); s.sendall(b'GET / HTTP/9.9x\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 400') and b'fault_message' in r, "malformed: %r" % r)
s = conn(); s.sendall(b'BREW /pot HTTP/1.1\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 400'), "unknown method: %r" % r)
# unsupported transfer encoding
s = conn(); s.sendall(b'PUT /mmds HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 400'), "Transfer-Encoding gzip: %r" % r)
# oversize body: answered before the body is sent, then closed
s = conn(); s.sendall(b'PUT /mmds HTTP/1.1\r\nContent-Length: 60000\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 400') and b'larger than the limit of 51200' in r, "oversize: %r" % r)
# chunked body
body = b'{"latest": {"k": "v"}}'
s = conn(); s.sendall(b'PUT /mmds HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' + b'%x\r\n' % len(body) + body + b'\r\n0\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 204'), "chunked: %r" % r)
# headers too large
s = conn(); s.sendall(b'GET / HTTP/1.1\r\nX: ' + b'a' * 20000 + b'\r\n\r\n'); r = readall(s)
check(r.startswith(b'HTTP/1.1 400'), "huge header: %r" % r[:100])
# a stalled half request and one that hangs up do not block others
stalled = conn(); stalled.sendall(b'PUT /machine-config HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"vc')
gone = conn(); gone.sendall(b'GET /vers'); gone.close()
# many connections at once
many = [conn() for _ in range(20)]
for m in many: m.sendall(b'GET /version HTTP/1.1\r\nHost: x\r\n\r\n')
for m in many:
    d = m.recv(65536); check(d.startswith(b'HTTP/1.1 200'), "one of many: %r" % d)
for m in many: m.close()
# past the connection limit: refused (closed at once), the others unharmed
held = [conn() for _ in range(40)]
for h in held:
    try:
        h.sendall(b'GET /version HTTP/1.1\r\nHost: x\r\n\r\n')
    except OSError:
        pass
answered = 0
for h in held:
    try:
        answered += h.recv(65536).startswith(b'HTTP/1.1 200')
    except OSError:
        pass
    h.close()
check(20 <= answered <= 32, "connection limit: %d of 40 answered" % answered)
stalled.close()
# Expect: 100-continue answered at once
s = conn(); s.sendall(b'PUT /mmds HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n')
d = s.recv(65536); check(d.startswith(b'HTTP/1.1 100 Continue'), "100-continue: %r" % d)
s.sendall(b'{}'); d = d[len(b'HTTP/1.1 100 Continue\r\n\r\n'):] or s.recv(65536)
check(d.startswith(b'HTTP/1.1 204'), "after 100: %r" % d)
PY
	# curl sends Expect: 100-continue for bodies over 1 KiB: no 1 s wait.
	printf '{"k": "%s"}' "$(head -c 3000 /dev/zero | tr '\0' x)" >"$TEST_TMP/3k"
	local t0 t1
	t0=$(date +%s%N)
	code=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
		--data-binary @"$TEST_TMP/3k" http://localhost/mmds)
	t1=$(date +%s%N)
	[[ "$code" == 204 ]] || fail "PUT /mmds of 3 KiB: status $code"
	(((t1 - t0) / 1000000 < 800)) || fail "PUT of 3 KiB took $(((t1 - t0) / 1000000)) ms"
	expect_code 200 GET /mmds
	expect_body '"k":"xxx'
	alive
	stop_server
}

test_socket_in_use_and_stale() {
	start_server
	local first=$SERVER_PID
	status=0
	"$OSPREY" --api-sock "$SOCK" >"$TEST_TMP/out2" 2>"$TEST_TMP/err2" </dev/null || status=$?
	expect_status 1 "$status" "second osprey on a socket in use"
	expect_grep 'in use' "$TEST_TMP/err2"
	alive
	stop_server
	# A stale socket file (nobody listening) is replaced.
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
	[[ -S "$SOCK" ]] || fail "could not make a stale socket"
	start_server
	[[ "$SERVER_PID" != "$first" ]] || fail "same server"
	alive
	stop_server
	# A regular file is refused.
	: >"$SOCK"
	status=0
	"$OSPREY" --api-sock "$SOCK" >"$TEST_TMP/out2" 2>"$TEST_TMP/err2" </dev/null || status=$?
	expect_status 1 "$status" "--api-sock on a regular file"
	expect_grep 'not a socket' "$TEST_TMP/err2"
}

flag_error() { # pattern args...
	local pattern=$1
	shift
	status=0
	"$OSPREY" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 1 "$status" "osprey $*"
	expect_lines 1 "$TEST_TMP/err"
	expect_grep "^osprey: error: .*$pattern" "$TEST_TMP/err"
}

test_top_level_flags() {
	flag_error 'needs --config-file' --no-api
	flag_error 'required' --id x
	flag_error 'unknown option' --api-sock "$TEST_TMP/s" --bogus
	flag_error 'needs a value' --api-sock
	flag_error 'Error, Warning' --api-sock "$TEST_TMP/s" --log-level loud
	flag_error 'No such file' --no-api --config-file /nonexistent.json
	echo '{"boot-source": {"kernel_image_path": "/k"}, "machine-config": {"vcpu_count": 0, "mem_size_mib": 1}}' \
		>"$TEST_TMP/bad.json"
	flag_error 'machine-config: .*vcpu_count' --no-api --config-file "$TEST_TMP/bad.json"
	echo '{"boot-sauce": {}}' >"$TEST_TMP/bad.json"
	flag_error 'unknown section' --no-api --config-file "$TEST_TMP/bad.json"
	status=0
	"$OSPREY" --api-sock x --help >"$TEST_TMP/out" 2>&1 || status=$?
	expect_status 0 "$status" "--help"
	expect_grep 'config-file' "$TEST_TMP/out"
}

test_sigterm_before_start() {
	start_server
	kill -INT "$SERVER_PID"
	wait_server 10
	expect_status 130 "$status" "SIGINT before InstanceStart"
}

need_guests() {
	[[ -f "$GUESTS/hello.elf" && -f "$GUESTS/ticker.elf" ]] || fail "test guests missing (make guests)"
}

test_guest_boot_hello_through_api() {
	need_guests
	start_server
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/hello.elf\", \"boot_args\": \"token=$$-api\"}"
	expect_code 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 64}'
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_server 20
	expect_status 0 "$status" "hello guest booted through the API"
	expect_grep '^hello from osprey test guest' "$TEST_TMP/out"
	# boot_args replace the defaults; osprey's device and template parameters stay.
	expect_grep "^cmdline: .*osprey.pv=1 token=$$-api\$" "$TEST_TMP/out"
	expect_no_grep 'cmdline: console=ttyS0' "$TEST_TMP/out"
	expect_grep 'api: PUT /actions: 204' "$TEST_TMP/err"
}

test_guest_start_errors() {
	need_guests
	start_server
	expect_fault PUT /actions '{"action_type": "InstanceStart"}' 'no boot source'
	expect_code 204 PUT /boot-source '{"kernel_image_path": "/nonexistent/vmlinux"}'
	expect_fault PUT /actions '{"action_type": "InstanceStart"}' 'kernel /nonexistent/vmlinux: No such file'
	head -c 8192 /dev/urandom >"$TEST_TMP/junk"
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$TEST_TMP/junk\"}"
	expect_fault PUT /actions '{"action_type": "InstanceStart"}' 'cannot build the machine'
	expect_code 200 GET /
	expect_body '"state":"Not started"'
	# A failed start can be retried.
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/hello.elf\"}"
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_server 20
	expect_status 0 "$status" "hello guest after failed starts"
}

lines() { wc -l <"$TEST_TMP/out"; }

test_guest_pause_resume_ctrl_alt_del() {
	need_guests
	start_server
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/ticker.elf\"}"
	expect_code 204 PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 32}'
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	expect_fault PUT /actions '{"action_type": "InstanceStart"}' 'already been started'
	expect_fault PUT /boot-source '{"kernel_image_path": "/k"}' 'not supported after starting'
	expect_fault PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}' 'not supported after starting'
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^tick 3$' "$TEST_TMP/out" && break
		sleep 0.1
	done
	grep -q '^tick 3$' "$TEST_TMP/out" || fail "the ticker guest does not tick"
	expect_code 200 GET /
	expect_body '"state":"Running"'
	expect_code 204 PATCH /vm '{"state": "Paused"}'
	expect_code 200 GET /
	expect_body '"state":"Paused"'
	expect_fault PATCH /vm '{"state": "Paused"}' 'already paused'
	local before after
	sleep 0.3
	before=$(lines)
	sleep 1.5
	after=$(lines)
	[[ "$before" == "$after" ]] || fail "the guest ran while paused ($before -> $after lines)"
	expect_code 204 PATCH /vm '{"state": "Resumed"}'
	expect_fault PATCH /vm '{"state": "Resumed"}' 'not paused'
	sleep 1
	after=$(lines)
	[[ "$after" -gt "$before" ]] || fail "the guest did not run again after resume"
	# Pause twice more in quick succession.
	expect_code 204 PATCH /vm '{"state": "Paused"}'
	expect_code 204 PATCH /vm '{"state": "Resumed"}'
	expect_code 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	wait_server 20
	expect_status 0 "$status" "ticker after Ctrl-Alt-Del"
	expect_grep '^ctrl-alt-del received$' "$TEST_TMP/out"
	expect_grep 'api: paused' "$TEST_TMP/err"
}

test_guest_sigterm_while_paused() {
	need_guests
	start_server
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/ticker.elf\"}"
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	expect_code 204 PATCH /vm '{"state": "Paused"}'
	stop_server
	expect_no_grep 'ctrl-alt-del' "$TEST_TMP/out"
}

test_guest_reboot_exit_status() {
	need_guests
	[[ -f "$GUESTS/reboot.elf" ]] || fail "reboot guest missing"
	start_server
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/reboot.elf\"}"
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	wait_server 20
	expect_status 2 "$status" "reboot guest through the API"
}

test_guest_config_file_no_api() {
	need_guests
	cat >"$TEST_TMP/vm.json" <<JSON
{
  "boot-source": {"kernel_image_path": "$GUESTS/hello.elf", "boot_args": "from-config-file", "initrd_path": null},
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 32, "smt": false},
  "drives": [],
  "network-interfaces": [],
  "balloon": null,
  "logger": {"level": "Info"}
}
JSON
	status=0
	timeout 20 "$OSPREY" --no-api --config-file "$TEST_TMP/vm.json" >"$TEST_TMP/out" \
		2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 0 "$status" "--no-api --config-file"
	expect_grep '^cmdline: .*osprey.pv=1 from-config-file$' "$TEST_TMP/out"
	expect_no_grep 'Sanitizer' "$TEST_TMP/err"
}

test_guest_config_file_with_api() {
	need_guests
	cat >"$TEST_TMP/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUESTS/ticker.elf"}, "machine-config": {"vcpu_count": 1, "mem_size_mib": 32}}
JSON
	start_server --config-file "$TEST_TMP/vm.json"
	expect_code 200 GET /
	expect_body '"state":"Running"'
	expect_code 200 GET /vm/config
	expect_body "\"kernel_image_path\":\"$GUESTS/ticker.elf\""
	expect_fault PUT /actions '{"action_type": "InstanceStart"}' 'already been started'
	expect_code 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	wait_server 20
	expect_status 0 "$status" "config file + API"
	expect_grep '^ctrl-alt-del received$' "$TEST_TMP/out"
}

test_guest_runtime_requests() {
	need_guests
	start_server
	truncate -s 1M "$TEST_TMP/disk.img"
	truncate -s 2M "$TEST_TMP/disk2.img"
	expect_code 204 PUT /boot-source "{\"kernel_image_path\": \"$GUESTS/ticker.elf\"}"
	expect_code 204 PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}'
	expect_code 204 PUT /drives/disk0 "{\"drive_id\": \"disk0\", \"path_on_host\": \"$TEST_TMP/disk.img\", \"is_root_device\": false}"
	expect_code 204 PUT /balloon '{"amount_mib": 0, "deflate_on_oom": false, "stats_polling_interval_s": 1}'
	expect_code 204 PUT /actions '{"action_type": "InstanceStart"}'
	expect_code 204 PATCH /balloon '{"amount_mib": 8}'
	expect_code 200 GET /balloon
	expect_body '"amount_mib":8'
	expect_code 200 GET /balloon/statistics
	expect_body '"target_pages":2048'
	expect_body '"target_mib":8'
	expect_fault PATCH /balloon '{"amount_mib": 100}' 'more than the guest'
	expect_fault PATCH /balloon/statistics '{"stats_polling_interval_s": 0}' 'on or off'
	# Run-time drive update: 204 where vm_update_disk() is implemented, else a clear 400.
	api PATCH /drives/disk0 "{\"drive_id\": \"disk0\", \"path_on_host\": \"$TEST_TMP/disk2.img\"}"
	[[ "$code" == 204 || ( "$code" == 400 && $(cat "$TEST_TMP/body") == *fault_message* ) ]] ||
		fail "PATCH /drives/disk0: $code $(cat "$TEST_TMP/body")"
	expect_fault PATCH /drives/nodisk '{"drive_id": "nodisk"}' 'no drive'
	expect_fault PUT /drives/disk1 "{\"drive_id\": \"disk1\", \"path_on_host\": \"$TEST_TMP/disk.img\", \"is_root_device\": false}" 'after starting'
	expect_code 204 PUT /logger '{"level": "Debug"}'
	expect_code 200 GET /vm/config
	expect_body '"balloon":\{"amount_mib":8'
	alive
	expect_code 204 PUT /actions '{"action_type": "SendCtrlAltDel"}'
	wait_server 20
	expect_status 0 "$status" "ticker after run-time requests"
}
