# End-to-end: virtio-net on a tap device inside a network namespace that
# the test creates (and always deletes): the host's own interfaces are
# never touched. One boot of the default Linux guest configures eth0,
# pings the host side, downloads a file over HTTP and sends one back with
# nc, and both sides compare SHA-256 sums.
# Needs: root (network namespaces, /dev/net/tun), ip, python3, $OSPREY,
# $KERNEL_DIR, $INITRAMFS.

BOOT_LIMIT=${OSPREY_E2E_TIMEOUT:-400}
NET_HOST_IP=192.168.203.1
NET_GUEST_IP=192.168.203.2
NET_TAP=osptap0
NET_MAC=02:00:00:cb:00:02

NET_NS=""
NET_SRV_PID=""

# Runs on exit of each test's subshell (replaces testlib's trap, so it
# also removes $TEST_TMP).
net_cleanup() {
	set +e
	if [[ -n "$NET_SRV_PID" ]]; then
		kill "$NET_SRV_PID" 2>/dev/null
		wait "$NET_SRV_PID" 2>/dev/null
	fi
	if [[ -n "$NET_NS" ]]; then
		ip -n "$NET_NS" tuntap del dev "$NET_TAP" mode tap 2>/dev/null
		ip netns del "$NET_NS" 2>/dev/null
	fi
	rm -rf "$TEST_TMP"
}

# Creates a namespace with a persistent tap holding $NET_HOST_IP/24.
net_setup() {
	[[ $(id -u) -eq 0 ]] || skip "needs root for network namespaces"
	[[ -c /dev/net/tun ]] || skip "no /dev/net/tun"
	command -v ip >/dev/null || skip "no ip(8)"
	trap net_cleanup EXIT
	NET_NS="osprey-net-$$-$RANDOM"
	ip netns add "$NET_NS" || skip "cannot create a network namespace"
	ip -n "$NET_NS" link set lo up || fail "lo up"
	ip -n "$NET_NS" tuntap add dev "$NET_TAP" mode tap || fail "tuntap add"
	ip -n "$NET_NS" addr add "$NET_HOST_IP/24" dev "$NET_TAP" || fail "addr add"
	ip -n "$NET_NS" link set "$NET_TAP" up || fail "link up"
}

# Host side inside the namespace: HTTP on :8203 serving $1, and a TCP
# listener on :8204 that stores what it receives (up to $2 bytes) in
# $1/g2h.recv once the connection ends.
net_servers() {
	cat >"$TEST_TMP/servers.py" <<'PY'
import http.server, os, socket, sys, threading

root, addr, expect = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)

    def log_message(self, *a):
        pass

httpd = http.server.ThreadingHTTPServer((addr, 8203), Handler)
lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind((addr, 8204))
lsock.listen(1)

def receive():
    conn, _ = lsock.accept()
    got = 0
    with open(os.path.join(root, "g2h.part"), "wb") as f:
        while got < expect:
            b = conn.recv(65536)
            if not b:
                break
            f.write(b)
            got += len(b)
    conn.close()
    os.rename(os.path.join(root, "g2h.part"), os.path.join(root, "g2h.recv"))

threading.Thread(target=receive, daemon=True).start()
print("READY", flush=True)
httpd.serve_forever()
PY
	ip netns exec "$NET_NS" python3 "$TEST_TMP/servers.py" "$1" "$NET_HOST_IP" "$2" \
		>"$TEST_TMP/servers.log" 2>&1 &
	NET_SRV_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qs READY "$TEST_TMP/servers.log" && return 0
		sleep 0.1
	done
	cat "$TEST_TMP/servers.log" >&2
	fail "host servers did not start"
}

test_virtio_net_ping_and_tcp_both_ways() {
	[[ -f "$KERNEL_DIR/vmlinux" && -f "$INITRAMFS" ]] || fail "default guest missing"
	command -v python3 >/dev/null || skip "no python3"
	net_setup
	local www="$TEST_TMP/www" h2g_sum g2h_sum g2h_len
	mkdir -p "$www"
	head -c 1048576 /dev/urandom >"$www/h2g.bin"
	h2g_sum=$(sha256sum "$www/h2g.bin" | cut -c1-64)
	# What the guest sends: made by user-mode code there (cheap when the
	# guest kernel is emulated), known here without a copy.
	g2h_sum=$(seq 1 150000 | sha256sum | cut -c1-64)
	g2h_len=$(seq 1 150000 | wc -c)
	net_servers "$www" "$g2h_len"

	local cmds
	cmds="ifconfig eth0 $NET_GUEST_IP netmask 255.255.255.0 up;"
	cmds+=' echo MAC=$(cat /sys/class/net/eth0/address);'
	cmds+=" ping -c 3 -w 60 $NET_HOST_IP | grep transmitted;"
	# No wget -T: busybox 1.35's wget dies of SIGSEGV when its -T alarm
	# fires during a transfer (on any host); the test's own time limit
	# covers a hang.
	cmds+=" wget -q -O /tmp/h2g http://$NET_HOST_IP:8203/h2g.bin || echo WGET-FAILED;"
	cmds+=' echo H2G=$(sha256sum /tmp/h2g | cut -c1-64);'
	cmds+=' seq 1 150000 > /tmp/g2h; echo G2H=$(sha256sum /tmp/g2h | cut -c1-64);'
	cmds+=" nc -w 30 $NET_HOST_IP 8204 < /tmp/g2h || echo NC-FAILED;"
	cmds+=' echo RX=$(cat /sys/class/net/eth0/statistics/rx_packets) TX=$(cat /sys/class/net/eth0/statistics/tx_packets)'
	status=0
	timeout --preserve-status --signal=TERM --kill-after=5 "$BOOT_LIMIT" \
		ip netns exec "$NET_NS" "$OSPREY" run --kernel "$KERNEL_DIR/vmlinux" \
		--initrd "$INITRAMFS" --memory 256M --log-level info \
		--net "tap=$NET_TAP,mac=$NET_MAC" --cmdline "quiet osprey_run=\"$cmds\"" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	tr -d '\r' <"$TEST_TMP/out" >"$TEST_TMP/o" && mv "$TEST_TMP/o" "$TEST_TMP/out"
	if grep -q Sanitizer "$TEST_TMP/err"; then
		cat "$TEST_TMP/err" >&2
		fail "sanitizer report"
	fi
	grep -E '^(MAC|H2G|G2H|RX)=|transmitted|FAILED' "$TEST_TMP/out" >&2 || true
	expect_status 0 "$status" "guest poweroff"
	expect_grep "virtio-net: tap $NET_TAP, MAC $NET_MAC" "$TEST_TMP/err"
	expect_no_grep 'needs a reset' "$TEST_TMP/err"
	expect_grep "^MAC=$NET_MAC\$" "$TEST_TMP/out"
	expect_grep '^3 packets transmitted, 3 packets received' "$TEST_TMP/out"
	expect_no_grep 'FAILED' "$TEST_TMP/out"
	expect_grep "^H2G=$h2g_sum\$" "$TEST_TMP/out"
	expect_grep "^G2H=$g2h_sum\$" "$TEST_TMP/out"
	[[ -f "$www/g2h.recv" ]] || fail "the host received no file from the guest"
	[[ "$(sha256sum "$www/g2h.recv" | cut -c1-64)" == "$g2h_sum" ]] ||
		fail "guest-to-host data differs ($(wc -c <"$www/g2h.recv") bytes received)"
}

test_virtio_net_bad_tap_is_one_error() {
	# A name that exists but is not a tap: osprey says so and exits 1.
	[[ -f "$KERNEL_DIR/vmlinux" ]] || fail "default guest missing"
	net_setup
	status=0
	timeout 60 ip netns exec "$NET_NS" "$OSPREY" run --kernel "$KERNEL_DIR/vmlinux" \
		--net tap=lo >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || status=$?
	expect_status 1 "$status" "osprey with --net tap=lo"
	expect_grep '^osprey: error: virtio-net: tap lo: Invalid argument$' "$TEST_TMP/err"
	expect_no_grep 'Sanitizer' "$TEST_TMP/err"
}
