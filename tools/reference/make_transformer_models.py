#!/usr/bin/python3
"""Exports two small transformer encoders as ONNX for the real-model tests.

No npm or Debian package ships a transformer encoder as ONNX, so the architectures come
from Debian's python3-torch (1.13) and python3-torchvision (0.14), with untrained weights
from fixed seeds: they serve to compare Supernova with ONNX Runtime, not to be accurate.
  vit_tiny      torchvision's VisionTransformer (image 64, patch 16, 2 layers, hidden 64,
                4 heads, 10 classes): Conv patchify, class token, LayerNormalization,
                attention, Erf GELU.
  text_encoder  int64 token ids and an int64 attention mask (1 keeps a token, 0 pads it)
                through token and position embeddings and torch.nn.TransformerEncoder
                (batch first, GELU, a post-norm layer then a pre-norm one, a final
                LayerNorm); the mask becomes the key padding mask (Equal, Where, -inf
                before Softmax). Sequence length and batch are dynamic.
Both at opset 17, the first with LayerNormalization as one op. This is a data generator:
torch is never needed by the build or the tests. Each model is written as
<out>/<name>/model.onnx; then make_reference.py makes its inputs and ONNX Runtime's outputs.

Each export is run by ONNX Runtime (onnxruntime-node) on the inputs of the tests and compared
with torch: the files on disk compute what the torch modules compute.

Usage (from the repository root):
  /usr/bin/python3 tools/reference/make_transformer_models.py \
      --peer build/peer/node_modules/onnxruntime-node --out tests/data/models
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
from torchvision.models.vision_transformer import VisionTransformer

import make_reference

OPSET = 17


class TextEncoder(torch.nn.Module):
    def __init__(self, vocab=100, dim=64, heads=4, ff=128, max_len=64):
        super().__init__()
        self.tokens = torch.nn.Embedding(vocab, dim)
        self.positions = torch.nn.Embedding(max_len, dim)

        def layer(norm_first):
            return torch.nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, activation="gelu",
                                                    batch_first=True, norm_first=norm_first)
        # One of each residual arrangement: TransformerEncoder clones its layer, so the
        # second is replaced by the pre-norm kind. The nested-tensor fast path is off: it
        # would zero the padded positions in torch but not in the traced graph.
        self.encoder = torch.nn.TransformerEncoder(layer(False), 2, norm=torch.nn.LayerNorm(dim),
                                                   enable_nested_tensor=False)
        self.encoder.layers[1] = layer(True)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.tokens(input_ids) + self.positions(positions)
        return self.encoder(x, src_key_padding_mask=attention_mask == 0)


def build(name):
    """The module, its output names and its dynamic axes."""
    torch.manual_seed(0)
    if name == "vit_tiny":
        model = VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=4,
                                  hidden_dim=64, mlp_dim=128, num_classes=10)
        # torchvision starts the classifier at zero, which would make every logit 0.
        torch.nn.init.normal_(model.heads.head.weight, std=0.5)
        torch.nn.init.normal_(model.heads.head.bias, std=0.1)
        return model.eval(), ["logits"], {"image": {0: "batch"}, "logits": {0: "batch"}}
    dynamic = {0: "batch", 1: "sequence"}
    return TextEncoder().eval(), ["hidden"], {"input_ids": dynamic, "attention_mask": dynamic,
                                              "hidden": dynamic}


def check_with_reference_runtime(path, module, examples, peer, here):
    """Runs ONNX Runtime on every example and returns the largest difference from torch."""
    worst = 0.0
    for values in examples:
        with torch.no_grad():
            expected = module(*[torch.from_numpy(x) for _, x in values]).numpy()
        with tempfile.TemporaryDirectory() as tmp:
            make_reference.run_reference(path, values, peer, tmp, here)
            got = numpy_helper.to_array(onnx.load_tensor(os.path.join(tmp, "output_0.pb")))
        assert got.shape == expected.shape, (got.shape, expected.shape)
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True, help="path of the onnxruntime-node module")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("vit_tiny", "text_encoder"):
        module, outputs, dynamic = build(name)
        # The test inputs of every case of this model (make_reference.py's TRANSFORMERS).
        examples = [make_reference.transformer_inputs(case)[0]
                    for case, (_, rel, _) in make_reference.TRANSFORMERS.items()
                    if rel == f"{name}/model.onnx"]
        out_dir = os.path.join(args.out, name)
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, "model.onnx")
        first = tuple(torch.from_numpy(x) for _, x in examples[0])
        torch.onnx.export(module, first, path, opset_version=OPSET,
                          input_names=[n for n, _ in examples[0]], output_names=outputs,
                          dynamic_axes=dynamic, do_constant_folding=True)
        model = onnx.load(path)
        model.producer_name = "tools/reference/make_transformer_models.py (torch 1.13)"
        onnx.save(model, path)
        worst = check_with_reference_runtime(path, module, examples, args.peer, here)
        assert worst < 1e-4, f"{name}: ONNX Runtime differs from torch by {worst}"
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"{name}: {os.path.getsize(path)} bytes, {len(model.graph.node)} nodes "
              f"({', '.join(ops)}); ONNX Runtime vs torch max abs difference {worst:.2g} "
              f"over {len(examples)} input sets")


if __name__ == "__main__":
    sys.exit(main())
