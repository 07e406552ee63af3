#!/usr/bin/env bash
# A .deb's server, unpacked and run as it ships: the bundled `simple` model answers an
# inference with its known sums and differences. For packages this machine cannot install or
# run natively: scripts/build_arm64.sh runs the arm64 package's server under qemu.
#   tests/package/deb_serve_extracted.sh PACKAGE.deb [RUNNER...]   (e.g. qemu-aarch64 -L /)
set -euo pipefail
DEB="$1"
shift
# shellcheck source=tests/package/lib.sh
. "$(dirname "$0")/lib.sh"

dpkg-deb -x "$DEB" "$WORK/root"
SERVER_START_TENTHS=600 start_server "$WORK/serve.log" "$@" "$WORK/root/usr/bin/supernova-serve" \
  --model-repository "$WORK/root/usr/share/supernova/model_repository" --address 127.0.0.1 \
  --http-port 0 --grpc-port -1 --metrics-port -1 # emulated start-up can take seconds
curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null || fail "not ready"
a="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"
b="5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5"
answer="$(curl -sf "http://127.0.0.1:$PORT/v2/models/simple/infer" -H 'Content-Type: application/json' \
  -d "{\"inputs\":[{\"name\":\"INPUT0\",\"datatype\":\"INT32\",\"shape\":[1,16],\"data\":[$a]},
       {\"name\":\"INPUT1\",\"datatype\":\"INT32\",\"shape\":[1,16],\"data\":[$b]}]}")" ||
  fail "the inference failed"
sum="6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21"
diff="-4,-3,-2,-1,0,1,2,3,4,5,6,7,8,9,10,11"
grep -q "\"OUTPUT0\".*\"data\":\[$sum\]" <<<"$answer" || fail "OUTPUT0 is not the sum: $answer"
grep -q "\"OUTPUT1\".*\"data\":\[$diff\]" <<<"$answer" || fail "OUTPUT1 is not the difference: $answer"
echo "$(basename "$DEB"): its server answers the bundled model exactly"
