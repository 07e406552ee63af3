#!/usr/bin/env bash
# The runtime from the command line, without the server: reads the bundled text-line image
# with the real PP-OCR models (orientation classifier, then recognizer) and prints what the
# models see. Run scripts/build.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
SN=build/tools/supernova
OCR=build/assets/ocr
IMG=examples/text_line.png
OUT=build/run-output

echo
echo "== model"
$SN info "$OCR/ch_PP-OCRv4_rec_infer.onnx" | head -8
echo
echo "== text-line orientation (PP-OCR mobile v2 classifier) on $IMG"
$SN run "$OCR/ch_ppocr_mobile_v2.0_cls_infer.onnx" --input "$IMG" --preprocess paddle \
  --size 48x192 --output-dir "$OUT/cls" --decode topk --top 2 \
  --labels examples/orientation_labels.txt
echo
echo "== text recognition (PP-OCRv4 recognizer) on $IMG"
$SN run "$OCR/ch_PP-OCRv4_rec_infer.onnx" --input "$IMG" --preprocess paddle --size 48x320 \
  --output-dir "$OUT/rec" --decode ctc --labels "$OCR/ppocr_keys_v1.txt"
