# Starting and stopping an API server (osprey --api-sock) in the background,
# for the suites that drive one: tests/api/server.sh, tests/ctl/ctl.sh
# (sourced by them, not executed). Uses $OSPREY and $SOCK; sets SERVER_PID.

# api_server_launch OUT ERR [FLAGS...]: osprey --api-sock "$SOCK" FLAGS in
# the background, stdout to OUT, stderr to ERR, stdin from /dev/null.
api_server_launch() {
	local out=$1 err=$2
	shift 2
	"$OSPREY" --api-sock "$SOCK" "$@" >"$out" 2>"$err" </dev/null &
	SERVER_PID=$!
}

# api_server_poll TRIES DELAY PROBE...: runs PROBE (a command) until it
# succeeds, at most TRIES times DELAY seconds apart. Returns 0 when it
# succeeded, 1 when the server exited first, 2 when the tries ran out.
api_server_poll() {
	local tries=$1 delay=$2 i
	shift 2
	for ((i = 0; i < tries; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || return 1
		"$@" && return 0
		sleep "$delay"
	done
	return 2
}

# api_server_exits LIMIT_S: waits up to LIMIT_S seconds for the server to
# exit. Returns 1 when it still runs.
api_server_exits() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		kill -0 "$SERVER_PID" 2>/dev/null || return 0
		sleep 0.05
	done
	! kill -0 "$SERVER_PID" 2>/dev/null
}
