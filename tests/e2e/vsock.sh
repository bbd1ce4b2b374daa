# End-to-end: virtio-vsock with the default Linux guest, both directions in
# one boot, over osprey's host Unix sockets (Firecracker's hybrid model,
# docs/cli.md). The guest runs guest/tools/vsock-echo (static, appended to
# the default initramfs as a second cpio archive); the host side is python3.
# Needs: $OSPREY, $KERNEL_DIR (vmlinux), $INITRAMFS, gcc with static glibc,
# cpio, python3.

VSOCK_LIMIT=${OSPREY_E2E_TIMEOUT:-400}
VSOCK_SUITE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The host side: one listener on <uds>_6000 for the guest's connection, and
# two connections into the guest's echo server on port 5000 through
# "CONNECT 5000" (retried until the guest listens): a line, then 256 KiB
# in both directions at once (more than one credit window). Prints
# HOST-... lines; exit status 0 when everything checked out.
write_vsock_host_py() {
	cat >"$1" <<'PY'
import hashlib, os, socket, sys, threading, time

uds, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
ok = {"listener": False, "client": False, "bulk": False}

def say(*a):
    print(*a, flush=True)

def listener():
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(uds + "_6000")
    srv.listen(1)
    srv.settimeout(max(1.0, deadline - time.monotonic()))
    conn, _ = srv.accept()
    conn.settimeout(60)
    data = b""
    while True:  # until the guest shuts down its sending side
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    conn.sendall(b"host-echo: " + data)
    conn.close()
    say("HOST-LISTENER got:", data.decode().strip())
    ok["listener"] = True

def connect_guest(port):
    """CONNECT through osprey's socket; retried until the guest listens."""
    while time.monotonic() < deadline:
        if not os.path.exists(uds):
            time.sleep(0.2)
            continue
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            s.connect(uds)
            s.sendall(b"CONNECT %d\n" % port)
            line = b""
            while not line.endswith(b"\n"):
                c = s.recv(1)
                if not c:
                    break
                line += c
        except OSError:
            line = b""
        if line.startswith(b"OK "):
            return s, int(line.split()[1])
        s.close()  # no listener in the guest yet: osprey hung up
        time.sleep(1)
    raise TimeoutError("the guest's echo server never answered")

def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk

def client():
    s, port = connect_guest(5000)
    s.sendall(b"ping-from-host\n")
    s.shutdown(socket.SHUT_WR)
    reply = read_all(s)
    s.close()
    say("HOST-CLIENT port=%d reply=%r" % (port, reply))
    ok["client"] = reply == b"ping-from-host\n"

    s, port = connect_guest(5000)
    blob = os.urandom(256 * 1024)
    def send():
        s.sendall(blob)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    back = read_all(s)
    t.join()
    s.close()
    same = hashlib.sha256(back).digest() == hashlib.sha256(blob).digest()
    say("HOST-BULK port=%d sent=%d back=%d same=%s" % (port, len(blob), len(back), same))
    ok["bulk"] = same

threads = [threading.Thread(target=f, daemon=True) for f in (listener, client)]
for t in threads:
    t.start()
for t in threads:
    t.join(max(1.0, deadline - time.monotonic()))
say("HOST-RESULT", " ".join("%s=%s" % kv for kv in sorted(ok.items())))
sys.exit(0 if all(ok.values()) else 1)
PY
}

test_vsock_echo_both_directions() {
	[[ -f "$KERNEL_DIR/vmlinux" ]] || fail "guest kernel missing"
	[[ -f "$INITRAMFS" ]] || fail "initramfs missing"
	command -v python3 >/dev/null || skip "python3 missing"
	local tools uds="$TEST_TMP/v.sock" hostpid hoststatus=0
	tools=$("$VSOCK_SUITE_DIR/../../guest/tools/build.sh" | tail -n 1) ||
		fail "cannot build guest/tools (gcc -static, cpio)"
	cat "$INITRAMFS" "$tools" >"$TEST_TMP/initramfs.cpio"
	write_vsock_host_py "$TEST_TMP/host.py"

	python3 "$TEST_TMP/host.py" "$uds" "$VSOCK_LIMIT" >"$TEST_TMP/host.log" 2>&1 &
	hostpid=$!
	# Guest: its CID, an echo server for the host's two connections, and
	# one connection to the host's listener on port 6000.
	osprey_run "$VSOCK_LIMIT" --kernel "$KERNEL_DIR/vmlinux" \
		--initrd "$TEST_TMP/initramfs.cpio" --memory 256M --log-level info \
		--vsock "cid=3,uds=$uds" \
		--cmdline 'quiet osprey_run="vsock-echo cid; vsock-echo listen 5000 2 300 & vsock-echo connect 2 6000 hello-from-guest 200; wait"'
	# The host side is done when the guest is (bounded by its deadline).
	wait "$hostpid" || hoststatus=$?
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/out.txt"
	echo "--- host side:" >&2
	cat "$TEST_TMP/host.log" >&2
	echo "--- guest:" >&2
	grep -E 'vsock-echo|osprey-guest' "$TEST_TMP/out.txt" >&2 || true

	expect_grep '^osprey-guest: init reached' "$TEST_TMP/out.txt"
	expect_grep '^vsock-echo: cid 3$' "$TEST_TMP/out.txt"
	# guest -> host: the listener on <uds>_6000 answered through osprey.
	expect_grep '^vsock-echo: reply: host-echo: hello-from-guest$' "$TEST_TMP/out.txt"
	expect_grep '^HOST-LISTENER got: hello-from-guest$' "$TEST_TMP/host.log"
	# host -> guest: CONNECT 5000, OK <local port from 1 << 30>, echo.
	expect_grep "^HOST-CLIENT port=1073741[0-9]+ reply=b'ping-from-host\\\\n'$" "$TEST_TMP/host.log"
	expect_grep '^vsock-echo: echoed 15 bytes to cid 2 port 1073741[0-9]+$' "$TEST_TMP/out.txt"
	expect_grep '^HOST-BULK port=[0-9]+ sent=262144 back=262144 same=True$' "$TEST_TMP/host.log"
	expect_grep '^vsock-echo: echoed 262144 bytes to cid 2 ' "$TEST_TMP/out.txt"
	expect_grep '^osprey-guest: exit status 0$' "$TEST_TMP/out.txt"
	expect_status 0 "$hoststatus" "host side (python3)"
	expect_status 0 "$status" "guest poweroff"
	# A well-behaved guest sends nothing malformed; the socket goes at exit.
	expect_grep 'virtio-vsock: .*\(0 malformed, 0 unexpected\)' "$TEST_TMP/err"
	expect_no_grep 'error' "$TEST_TMP/err"
	[[ ! -e "$uds" ]] || fail "$uds left behind after exit"
}
