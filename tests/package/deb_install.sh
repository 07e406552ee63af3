#!/usr/bin/env bash
# The Debian package as an administrator gets it: cpack makes it from the built tree, dpkg
# installs it into a clean root, and then the files, the conffile, the service account, the
# state directory with the bundled repository, the enabled unit (systemd-analyze verify), the
# installed server answering on its health endpoint and a purge that leaves nothing behind
# are checked.
#   tests/package/deb_install.sh BUILD_DIR
# Needs root (dpkg writes a root's database and the postinst chowns): skips otherwise.
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: installing a package into a root needs root (dpkg --root, chown)"
  exit 77
fi
# shellcheck source=tests/package/lib.sh
. "$(dirname "$0")/lib.sh"

echo "== cpack"
(cd "$WORK" && cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/out" >"$WORK/cpack.log") ||
  { cat "$WORK/cpack.log"; fail "cpack"; }
arch="$(dpkg --print-architecture)"
deb="$(ls "$WORK"/out/supernova_*_"$arch".deb)"
dev="$(ls "$WORK"/out/supernova-dev_*_"$arch".deb)"
echo "$(basename "$deb") $(du -k "$deb" | cut -f1) KiB, $(basename "$dev") $(du -k "$dev" | cut -f1) KiB"
dpkg-deb --field "$deb" Depends

# A clean root: an empty dpkg database and base-passwd's account tables, nothing else. dpkg
# runs the maintainer scripts outside it with DPKG_ROOT set (--force-script-chrootless);
# dependencies are the host's (--force-depends: the root has no libraries).
ROOT="$WORK/root"
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates" "$ROOT/etc"
: >"$ROOT/var/lib/dpkg/status"
cp /usr/share/base-passwd/passwd.master "$ROOT/etc/passwd"
cp /usr/share/base-passwd/group.master "$ROOT/etc/group"
dpkg_root() { dpkg --root="$ROOT" --force-script-chrootless --force-depends --log=/dev/null "$@"; }

echo "== install"
dpkg_root -i "$deb" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i"; }
[ "$(dpkg-query --root="$ROOT" -W -f='${Status}' supernova)" = "install ok installed" ] ||
  fail "supernova is not installed in the root"

for f in usr/bin/supernova usr/bin/supernova-serve usr/bin/supernova-stream \
  usr/bin/supernova-collab usr/lib/systemd/system/supernova.service \
  usr/lib/sysusers.d/supernova.conf etc/supernova/serve.env \
  usr/share/doc/supernova/deploy.md; do
  [ -e "$ROOT/$f" ] || fail "missing after install: /$f"
done
lib="$(find "$ROOT/usr/lib" -maxdepth 2 -name 'libsupernova.so.*' | head -1)"
[ -n "$lib" ] || fail "libsupernova is not installed"
for p in "$BUILD"/lib/supernova/supernova_*.so; do
  [ -e "$p" ] || continue
  name="$(basename "$p")"
  found="$(find "$ROOT/usr/lib" -path "*/supernova/$name")"
  if [ "$name" = supernova_provider_cuda.so ]; then
    [ -z "$found" ] || fail "the cuda plugin is in the package (its libraries are not Debian's)"
  else
    [ -n "$found" ] || fail "plugin not in the package: $name"
  fi
done
# The development files are the other package's.
[ ! -e "$ROOT/usr/include/supernova/session.h" ] || fail "headers in the runtime package"
# Whole outputs first: grep -q stops reading at its match, and under pipefail the writer's
# SIGPIPE would fail the check.
dev_files="$(dpkg-deb --contents "$dev")"
grep -q '/usr/include/supernova/session.h$' <<<"$dev_files" || fail "supernova-dev lacks the headers"
conffiles="$(dpkg-query --root="$ROOT" -W -f='${Conffiles}\n' supernova)"
grep -q '/etc/supernova/serve.env' <<<"$conffiles" || fail "/etc/supernova/serve.env is not a conffile"

echo "== account and state"
entry="$(grep '^supernova:' "$ROOT/etc/passwd")" || fail "no supernova account in the root"
IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
{ [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ]; } || fail "supernova is not a system account (uid $uid)"
[ "$home" = /var/lib/supernova ] || fail "supernova's home is $home"
case "$shell" in */nologin | */false) ;; *) fail "supernova has a login shell: $shell" ;; esac
grep -q "^supernova:x:$gid:" "$ROOT/etc/group" || fail "no supernova group"
models="$ROOT/var/lib/supernova/models"
[ -f "$models/simple/config.pbtxt" ] || fail "the bundled repository is not in /var/lib/supernova/models"
[ "$(stat -c %u:%g "$models/simple/config.pbtxt")" = "$uid:$gid" ] ||
  fail "the repository is not the supernova account's"
[ "$(stat -c %a "$ROOT/var/lib/supernova")" = 750 ] || fail "/var/lib/supernova is not 0750"

echo "== unit"
[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/supernova.service" ] ||
  fail "the unit is not enabled"
unit="$ROOT/usr/lib/systemd/system/supernova.service"
grep -q '^User=supernova$' "$unit" || fail "the unit does not run as supernova"
grep -q '^Restart=on-failure$' "$unit" || fail "the unit does not restart on failure"
# systemd-analyze checks the unit's keys and values and that ExecStart's program is there. The
# clean root has no systemd to resolve the unit's dependencies against, so the installed unit is
# verified against this host's, its program path pointed into the root.
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (package systemd)"
mkdir -p "$WORK/verify"
sed "s|/usr/bin/supernova-serve|$ROOT/usr/bin/supernova-serve|" "$unit" \
  >"$WORK/verify/supernova.service"
grep -q "^ExecStart=$ROOT/usr/bin/supernova-serve " "$WORK/verify/supernova.service" ||
  fail "ExecStart does not run /usr/bin/supernova-serve"
SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$WORK/verify/supernova.service" \
  >"$WORK/verify.log" 2>&1 || { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
# It reports unknown keys and bad values as warnings, with success: any output is a failure.
if [ -s "$WORK/verify.log" ]; then
  cat "$WORK/verify.log"
  fail "systemd-analyze verify reports problems"
fi

echo "== the installed server"
# ExecStart's own command line with the root's paths and free ports.
flags="$(sed -n 's/^SUPERNOVA_SERVE_FLAGS="\(.*\)"$/\1/p' "$ROOT/etc/supernova/serve.env")"
[ -n "$flags" ] || fail "serve.env sets no SUPERNOVA_SERVE_FLAGS"
flags="$(sed 's/--http-port [0-9]*/--http-port 0/; s/--grpc-port [0-9]*/--grpc-port 0/;
  s/--metrics-port [0-9]*/--metrics-port 0/' <<<"$flags")"
# shellcheck disable=SC2086 # the flags are words, as systemd splits $SUPERNOVA_SERVE_FLAGS
start_server "$WORK/serve.log" "$ROOT/usr/bin/supernova-serve" --model-repository "$models" \
  --address 127.0.0.1 $flags
curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null || fail "not ready"
metadata="$(curl -sf "http://127.0.0.1:$PORT/v2/models/simple")" || fail "no model metadata"
grep -q '"name":"simple"' <<<"$metadata" || fail "the bundled model is not served"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || fail "the server did not stop cleanly on SIGTERM"
SERVER_PID=""

echo "== a site's configuration survives an upgrade; purge leaves nothing"
echo 'SUPERNOVA_SERVE_FLAGS="--http-port 9000"' >"$ROOT/etc/supernova/serve.env"
dpkg_root --force-confold -i "$deb" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "reinstall"; }
grep -q 'http-port 9000' "$ROOT/etc/supernova/serve.env" || fail "the upgrade replaced serve.env"
dpkg_root --purge supernova >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "purge"; }
for f in usr/bin/supernova-serve usr/lib/systemd/system/supernova.service var/lib/supernova \
  etc/supernova/serve.env etc/systemd/system/multi-user.target.wants/supernova.service; do
  [ ! -e "$ROOT/$f" ] || fail "left after purge: /$f"
done
echo "deb: installed, checked, served, upgraded and purged"
