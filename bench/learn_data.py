#!/usr/bin/env python3
"""The labelled image folders of the learning benchmark (bench/learn.sh, docs/learn.md):
one subfolder per class, for `supernova learn eval --train DIR --test DIR`.

  fashion  Fashion-MNIST (Debian dataset-fashion-mnist): a pool of training images per class
           from its training set, test images per class from its test set.
  reid     pedestrians of vtest.avi: each long person track of a reference run of
           `supernova stream` (its JSON lines) is one identity; crops from the first part of the
           track are the training pool, crops from its last part the test set.

Only numpy and the standard library: PNGs are written here (zlib), frames come from ffmpeg.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np

from joint_eval import iou  # the joint benchmark's box overlap

FASHION_CLASSES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
                   "bag", "ankle_boot"]


def write_png(path, pixels):
    """pixels: uint8 [H, W] (grey) or [H, W, 3] (RGB)."""
    h, w = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(args):
    src = args.dataset
    for split, prefix, per_class in (("train", "train", args.train_per_class),
                                     ("test", "t10k", args.test_per_class)):
        images = read_idx(os.path.join(src, prefix + "-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(src, prefix + "-labels-idx1-ubyte.gz"))
        taken = [0] * len(FASHION_CLASSES)
        for i, label in enumerate(labels):  # the dataset's own order: no choice of ours
            if taken[label] >= per_class:
                continue
            folder = os.path.join(args.out, split, FASHION_CLASSES[label])
            os.makedirs(folder, exist_ok=True)
            write_png(os.path.join(folder, "%05d.png" % i), images[i])
            taken[label] += 1
            if min(taken) >= per_class:
                break
    print("fashion: %d classes, %d training and %d test images per class in %s" %
          (len(FASHION_CLASSES), args.train_per_class, args.test_per_class, args.out))


def reid(args):
    # Clean sightings: a person track matched by a confident detection this frame, tall enough
    # to show a body, overlapping no other person (where the tracker could swap identities).
    sightings = {}  # track id -> [(frame, box)]
    width = height = 0
    with open(args.tracks) as f:
        for line in f:
            rec = json.loads(line)
            width, height = rec["width"], rec["height"]
            people = [t for t in rec.get("tracks", []) if t["label"] == "person"]
            boxes = [(t["box"]["x1"], t["box"]["y1"], t["box"]["x2"], t["box"]["y2"])
                     for t in people]
            for t, box in zip(people, boxes):
                if t["frames_since_detection"] != 0 or t["score"] < args.min_score:
                    continue
                if box[3] - box[1] < args.min_height:
                    continue
                if any(iou(box, other) > 0.05 for other in boxes if other is not box):
                    continue
                sightings.setdefault(t["id"], []).append((rec["frame"], box))
    identities = {tid: s for tid, s in sightings.items() if len(s) >= args.min_sightings}
    # Which crops go where: the first 40% of an identity's sightings are its training pool,
    # the last 40% its test set (at most test_per_class, evenly spaced): the gap between them
    # is the "later frames" of re-identification.
    wanted = {}  # frame -> [(path, box)]
    for tid, s in sorted(identities.items()):
        n = len(s)
        train = s[:int(0.4 * n)]
        test = s[n - int(0.4 * n):]
        if len(test) > args.test_per_class:
            step = len(test) / args.test_per_class
            test = [test[int(i * step)] for i in range(args.test_per_class)]
        for split, part in (("train", train), ("test", test)):
            folder = os.path.join(args.out, split, "person%03d" % tid)
            os.makedirs(folder, exist_ok=True)
            for frame, box in part:
                wanted.setdefault(frame, []).append(
                    (os.path.join(folder, "f%04d.png" % frame), box))
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-i", args.video, "-f", "rawvideo",
                             "-pix_fmt", "rgb24", "-"], stdout=subprocess.PIPE)
    frame_bytes = width * height * 3
    index = 0
    written = 0
    while True:
        buf = proc.stdout.read(frame_bytes)
        if len(buf) < frame_bytes:
            break
        if index in wanted:
            img = np.frombuffer(buf, dtype=np.uint8).reshape(height, width, 3)
            for path, (x1, y1, x2, y2) in wanted[index]:
                # 10% margin around the box, clipped to the frame.
                mx, my = 0.1 * (x2 - x1), 0.1 * (y2 - y1)
                xa, ya = max(0, int(x1 - mx)), max(0, int(y1 - my))
                xb, yb = min(width, int(x2 + mx + 1)), min(height, int(y2 + my + 1))
                write_png(path, np.ascontiguousarray(img[ya:yb, xa:xb]))
                written += 1
        index += 1
    proc.wait()
    if proc.returncode != 0:
        sys.exit("reid: ffmpeg failed on " + args.video)
    print("reid: %d identities, %d crops in %s" % (len(identities), written, args.out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fashion")
    f.add_argument("--dataset", default="/usr/share/datasets/fashion-mnist")
    f.add_argument("--out", required=True)
    f.add_argument("--train-per-class", type=int, default=100)
    f.add_argument("--test-per-class", type=int, default=100)
    r = sub.add_parser("reid")
    r.add_argument("--video", required=True)
    r.add_argument("--tracks", required=True, help="JSON lines of `supernova stream`")
    r.add_argument("--out", required=True)
    r.add_argument("--min-score", type=float, default=0.5)
    r.add_argument("--min-height", type=float, default=60)
    r.add_argument("--min-sightings", type=int, default=40)
    r.add_argument("--test-per-class", type=int, default=20)
    args = p.parse_args()
    fashion(args) if args.cmd == "fashion" else reid(args)


if __name__ == "__main__":
    main()
