#!/usr/bin/python3
"""Makes the reference test data for the real-model tests.

For each model in MODELS: a deterministic synthetic image (shapes, gradients, stripes and
noise from a fixed seed) is normalised as the model expects and saved as input_0.pb; ONNX
Runtime (onnxruntime-node, a second runtime) runs it and its outputs are saved as
output_<i>.pb: ONNX TensorProto files, the layout of ONNX's own test data sets. The audio
models (AUDIO) get a synthetic voiced signal, a seeded recurrent state and their sample rate
as input_<k>.pb, one file per input. The transformer encoders (TRANSFORMERS, exported into
the output folder by make_transformer_models.py) get a synthetic image or seeded token ids
with an attention mask that pads part of the last row.

Usage (from the repository root, after scripts/fetch_models.sh and with onnxruntime-node
installed by `npm install --ignore-scripts onnxruntime-node@1.30.0` in PEER_DIR):
  /usr/bin/python3 tools/reference/make_reference.py --assets build/assets \
      --shared ../shared/models --peer build/peer/node_modules/onnxruntime-node \
      --out tests/data/models
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from onnx import numpy_helper

# name: (asset root key, file, input name, shape, layout, normalisation)
MODELS = {
    "ppocr_det": ("assets", "ocr/ch_PP-OCRv4_det_infer.onnx", "x", (1, 3, 320, 320), "nchw", "imagenet"),
    "ppocr_rec": ("assets", "ocr/ch_PP-OCRv4_rec_infer.onnx", "x", (1, 3, 48, 320), "nchw", "paddle"),
    "ppocr_cls": ("assets", "ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", (1, 3, 48, 192), "nchw", "paddle"),
    "blazeface": ("assets", "blazeface/face_detection_front_128x128_barracuda.onnx", "input:0", (1, 128, 128, 3), "nhwc", "signed"),
    "centernet": ("shared", "centernet_mbv3_coco_512.onnx", "tower_0/images", (1, 512, 512, 3), "nhwc", "raw"),
    "face_resnet29": ("shared", "face_recognition_resnet29_128d.onnx", "image", (1, 3, 150, 150), "nchw", "raw"),
}


# Audio models with several inputs: name -> (asset root key, file, inputs). Each input is
# (name, kind, shape): kind "speech" is a synthetic voiced signal at the model's rate, "state"
# a small seeded recurrent state, an int a scalar int64 of that value (the sample rate).
AUDIO = {
    "silero_vad_v4": ("assets", "vad/silero_vad_legacy.onnx",
                      [("input", "speech", (1, 512)), ("sr", 16000, ()),
                       ("h", "state", (2, 1, 64)), ("c", "state", (2, 1, 64))]),
    "silero_vad_v5": ("assets", "vad/silero_vad_v5.onnx",
                      [("input", "speech", (1, 512)), ("state", "state", (2, 1, 128)),
                       ("sr", 16000, ())]),
    # The same model down the other branch of its If: 8 kHz audio in 256-sample frames.
    "silero_vad_v5_8k": ("assets", "vad/silero_vad_v5.onnx",
                         [("input", "speech", (1, 256)), ("state", "state", (2, 1, 128)),
                          ("sr", 8000, ())]),
}


# Transformer encoders kept with the test data (root "data": the --out folder), made by
# make_transformer_models.py. Input kinds: "image" a synthetic image, ImageNet-normalised,
# NCHW; "tokens" int64 ids in [1, 100) with 0 where "mask" (int64, 1 keeps a token) pads the
# last third of the last row. The text encoder runs at two sequence lengths. Two layers leave
# little float32 reassociation, so their tests allow a tenth of the deep models' tolerance.
TRANSFORMERS = {
    "vit_tiny": ("data", "vit_tiny/model.onnx", [("image", "image", (1, 3, 64, 64))]),
    "text_encoder": ("data", "text_encoder/model.onnx",
                     [("input_ids", "tokens", (2, 7)), ("attention_mask", "mask", (2, 7))]),
    "text_encoder_s16": ("data", "text_encoder/model.onnx",
                         [("input_ids", "tokens", (2, 16)), ("attention_mask", "mask", (2, 16))]),
}


def speech_like(n, rate, seed):
    """A voiced sound: harmonics of a gliding pitch under a syllable envelope, with noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    f0 = 120 + 60 * t / max(t[-1], 1e-9) + rng.uniform(0, 30)
    phase = 2 * np.pi * np.cumsum(np.full(n, 1.0) * f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 - 0.5 * np.cos(2 * np.pi * t / t[-1])
    return (0.3 * envelope * voice + rng.normal(0, 0.01, n)).astype(np.float32)


def make_audio_inputs(inputs, seed):
    rate = next((kind for _, kind, _ in inputs if isinstance(kind, int)), 16000)
    values = []
    for k, (name, kind, shape) in enumerate(inputs):
        if kind == "speech":
            x = speech_like(int(np.prod(shape)), rate, seed).reshape(shape)
        elif kind == "state":
            x = (np.random.default_rng(seed + 100 + k).normal(0, 0.1, shape)).astype(np.float32)
        else:
            x = np.array(kind, dtype=np.int64).reshape(shape)
        values.append((name, x))
    return values


def padding_mask(shape):
    mask = np.ones(shape, dtype=np.int64)
    mask[-1, shape[1] - shape[1] // 3:] = 0
    return mask


def transformer_inputs(name):
    """The (name, array) inputs of TRANSFORMERS[name] and their seed, placed after the others'."""
    seed = len(MODELS) + len(AUDIO) + list(TRANSFORMERS).index(name)
    values = []
    for in_name, kind, shape in TRANSFORMERS[name][2]:
        if kind == "image":
            x = make_input(shape, "nchw", "imagenet", seed)
        elif kind == "tokens":
            x = np.random.default_rng(seed).integers(1, 100, shape).astype(np.int64)
            x[padding_mask(shape) == 0] = 0
        else:
            x = padding_mask(shape)
        values.append((in_name, x))
    return values, seed


def run_reference(model, values, peer, out_dir, here):
    """Runs ONNX Runtime on (name, array) inputs; writes output_<i>.pb; returns the count."""
    with tempfile.TemporaryDirectory() as tmp:
        req = {"inputs": [], "out_dir": tmp}
        for k, (name, x) in enumerate(values):
            path = os.path.join(tmp, f"in_{k}.bin")
            x.tofile(path)
            req["inputs"].append({"name": name, "dims": list(x.shape), "file": path,
                                  "type": "int64" if x.dtype == np.int64 else "float32"})
        with open(os.path.join(tmp, "req.json"), "w") as f:
            json.dump(req, f)
        env = dict(os.environ, ORT_NODE_MODULE=os.path.abspath(peer))
        subprocess.run(["node", os.path.join(here, "ort_run.js"), model, os.path.join(tmp, "req.json")],
                       check=True, env=env)
        meta = json.load(open(os.path.join(tmp, "outputs.json")))
        for i, m in enumerate(meta):
            assert m["type"] == "float32", m
            y = np.fromfile(os.path.join(tmp, f"output_{i}.bin"), dtype=np.float32).reshape(m["dims"])
            with open(os.path.join(out_dir, f"output_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(y, m["name"]).SerializeToString())
    return len(meta)


# The OCR models see rendered text, so that their outputs are not trivially near zero.
TEXT = {"ppocr_det": "Supernova 2026\nedge inference", "ppocr_rec": "Supernova 2026",
        "ppocr_cls": "Supernova 2026"}


def synthetic_image(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w * 200 + 30, y / h * 180 + 40, (x + y) / (h + w) * 120 + 60], axis=-1)
    for _ in range(6):  # filled rectangles
        y0, x0 = rng.integers(0, h - 8), rng.integers(0, w - 8)
        y1, x1 = y0 + rng.integers(4, max(5, h // 3)), x0 + rng.integers(4, max(5, w // 3))
        img[y0:y1, x0:x1] = rng.integers(0, 256, 3)
    for _ in range(3):  # discs
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(3, max(4, min(h, w) // 4))
        img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.integers(0, 256, 3)
    img[(y.astype(int) // 4) % 6 == 0] *= 0.3  # dark stripes, text-line-like
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.float32)  # H, W, 3 RGB


def text_image(h, w, text):
    """Black text on white rendered by ImageMagick, as an H, W, 3 float array."""
    size = max(12, min(h * 2 // 3, 48))
    ppm = subprocess.run(["convert", "-size", f"{w}x{h}", "xc:white", "-fill", "black",
                          "-pointsize", str(size), "-gravity", "center", "-annotate", "+0+0",
                          text, "-depth", "8", "ppm:-"], check=True, capture_output=True).stdout
    # Binary PPM: "P6\n<w> <h>\n255\n" then RGB bytes.
    header_end, fields = 0, []
    while len(fields) < 4:
        while ppm[header_end:header_end + 1].isspace():
            header_end += 1
        start = header_end
        while not ppm[header_end:header_end + 1].isspace():
            header_end += 1
        fields.append(ppm[start:header_end])
    data = np.frombuffer(ppm[header_end + 1:], dtype=np.uint8)
    return data.reshape(h, w, 3).astype(np.float32)


def make_input(shape, layout, norm, seed, text=None):
    h, w = (shape[2], shape[3]) if layout == "nchw" else (shape[1], shape[2])
    img = text_image(h, w, text) if text else synthetic_image(h, w, seed)
    if norm == "imagenet":
        img = (img / 255.0 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    elif norm == "paddle":
        img = (img / 255.0 - 0.5) / 0.5
    elif norm == "signed":
        img = img / 127.5 - 1.0
    img = img.astype(np.float32)
    if layout == "nchw":
        img = img.transpose(2, 0, 1)
    return np.ascontiguousarray(img[None])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--peer", required=True, help="path of the onnxruntime-node module")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    roots = {"assets": args.assets, "shared": args.shared, "data": args.out}
    here = os.path.dirname(os.path.abspath(__file__))
    for seed, (name, (root, rel, in_name, shape, layout, norm)) in enumerate(MODELS.items()):
        if args.only and name != args.only:
            continue
        model = os.path.join(roots[root], rel)
        out_dir = os.path.join(args.out, name)
        os.makedirs(out_dir, exist_ok=True)
        text = TEXT.get(name)
        x = make_input(shape, layout, norm, seed, text)
        with open(os.path.join(out_dir, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(x, in_name).SerializeToString())
        n_out = run_reference(model, [(in_name, x)], args.peer, out_dir, here)
        manifest = {"model_root": root, "model": rel, "input": in_name, "shape": list(shape),
                    "layout": layout, "normalisation": norm, "seed": seed, "text": text,
                    "reference": "onnxruntime-node 1.30.0, 1 thread, all optimizations"}
        with open(os.path.join(out_dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(f"{name}: input {shape}, {n_out} outputs -> {out_dir}")
    for seed, (name, (root, rel, inputs)) in enumerate(AUDIO.items(), start=len(MODELS)):
        if args.only and name != args.only:
            continue
        model = os.path.join(roots[root], rel)
        out_dir = os.path.join(args.out, name)
        os.makedirs(out_dir, exist_ok=True)
        values = make_audio_inputs(inputs, seed)
        for k, (in_name, x) in enumerate(values):
            with open(os.path.join(out_dir, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(x, in_name).SerializeToString())
        n_out = run_reference(model, values, args.peer, out_dir, here)
        manifest = {"model_root": root, "model": rel,
                    "inputs": [{"name": n, "kind": k if isinstance(k, str) else "value " + str(k),
                                "shape": list(s)} for n, k, s in inputs],
                    "seed": seed, "reference": "onnxruntime-node 1.30.0, 1 thread, all optimizations"}
        with open(os.path.join(out_dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(f"{name}: {len(values)} inputs, {n_out} outputs -> {out_dir}")
    for name, (root, rel, inputs) in TRANSFORMERS.items():
        if args.only and name != args.only:
            continue
        out_dir = os.path.join(args.out, name)
        os.makedirs(out_dir, exist_ok=True)
        values, seed = transformer_inputs(name)
        for k, (in_name, x) in enumerate(values):
            with open(os.path.join(out_dir, f"input_{k}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(x, in_name).SerializeToString())
        n_out = run_reference(os.path.join(roots[root], rel), values, args.peer, out_dir, here)
        manifest = {"model_root": root, "model": rel,
                    "inputs": [{"name": n, "kind": k, "shape": list(s)} for n, k, s in inputs],
                    "tolerance": {"absolute": 1e-5, "relative": 1e-4},
                    "seed": seed, "reference": "onnxruntime-node 1.30.0, 1 thread, all optimizations"}
        with open(os.path.join(out_dir, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        print(f"{name}: {len(values)} inputs, {n_out} outputs -> {out_dir}")


if __name__ == "__main__":
    sys.exit(main())
