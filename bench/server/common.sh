# Shared by bench/server/run.sh and run_http.sh (sourced): a scratch directory removed on exit
# together with the processes started in the background (add their pids to PIDS), free ports,
# and a wait for an HTTP endpoint.
TMP="$(mktemp -d /tmp/supernova-server-bench.XXXXXX)"
chmod 755 "$TMP"  # nginx workers may run as another user
PIDS=()
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap bench_cleanup EXIT

free_ports() {  # N: prints N ports nothing listens on
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
PY
}

wait_http() {  # URL: polls until it answers 200 (up to 60 s)
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): $1 never became ready" >&2
  return 1
}
