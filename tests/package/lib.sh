# shellcheck shell=bash
# Shared by the package tests (sourced): a work directory removed at exit with any server still
# running, `fail`, and `start_server LOG CMD...`, which starts a supernova-serve whose command
# line asks for --http-port 0 and waits for the port its server_ready log line reports
# (SERVER_PID, PORT). Waits up to SERVER_START_TENTHS tenths of a second (default 100).
WORK="$(mktemp -d)"
SERVER_PID=""
PORT=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

start_server() {
  local log="$1"
  shift
  "$@" 2>"$log" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq "${SERVER_START_TENTHS:-100}"); do
    PORT="$(grep -o '"http_port":"[0-9]*"' "$log" | grep -o '[0-9]\+' || true)"
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log"; fail "the server exited"; }
    sleep 0.1
  done
  cat "$log"
  fail "the server did not report its port"
}
