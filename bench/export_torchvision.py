#!/usr/bin/python3
"""Exports standard architectures for the benchmark: torchvision's ResNet-18 and MobileNetV2
with untrained weights (latency does not depend on the weight values), seeded so that every
export is the same model. ONNX opset 13, batch dimension dynamic.

Usage: /usr/bin/python3 bench/export_torchvision.py OUT_DIR
Needs Debian's python3-torch and python3-torchvision (scripts/setup.sh --bench installs them).
"""
import os
import sys

import torch
import torchvision


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name in ("resnet18", "mobilenet_v2"):
        path = os.path.join(out_dir, name + ".onnx")
        if os.path.exists(path):
            continue
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)(weights=None).eval()
        x = torch.rand(1, 3, 224, 224)
        torch.onnx.export(model, x, path + ".tmp", opset_version=13, input_names=["input"],
                          output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        os.replace(path + ".tmp", path)
        print(f"exported {path}")


if __name__ == "__main__":
    main()
