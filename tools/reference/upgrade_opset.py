#!/usr/bin/python3
"""Converts an ONNX model to a newer opset of the default domain, up to 21.

Debian 12's python3-onnx (1.12) converts models up to opset 17 only. Models below 17 first
go through its version converter; the steps 17->18->19->20->21 are made here, editing the
protobuf directly (1.12's checker and shape inference do not know the new opsets). Each step
changes only the nodes whose operator changed meaning between the two opsets (from ONNX's
Changelog.md), in the graph and in every If/Loop/Scan body:
  18  ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceMax, ReduceMean, ReduceMin,
      ReduceProd, ReduceSumSquare: the `axes` attribute becomes the second input (a
      Constant node). Split without its `split` input: equal parts, now said by the new
      `num_outputs` attribute, which 18 requires in that case.
  20  DFT: the `axis` attribute becomes the third input (its old default, 1, written out:
      the input's default is -2). GridSample: modes bilinear/bicubic are named linear/cubic.
  21  GroupNormalization's scale and bias change from per group to per channel; the step
      refuses such a model rather than guess the channel count.
Every other change in these opsets is additive (Pad's axes, Resize's antialias, axes and
keep_aspect_ratio_policy, Cast's saturate, AveragePool's dilations, new types) or a version
bump only (Reshape, Shape, Size, Equal, Identity, If, Loop, Scan, ...): the nodes stay as they
are and only the opset import (and the IR version the opset needs) changes. Other domains
are left alone.

With --check-inputs DIR (input_<k>.pb files, as in tests/data/models/<name>/) and --peer,
ONNX Runtime (onnxruntime-node) runs the original and the converted model on those inputs
and the tool prints, and asserts small, the largest difference: the converter's own proof.
--self-test --peer does the same for a small model of every op a step rewrites (no real
model here has a Split without sizes, a DFT or a GridSample).

Usage:
  /usr/bin/python3 tools/reference/upgrade_opset.py MODEL OUT --opset 21 \
      [--check-inputs tests/data/models/ppocr_rec --peer build/peer/node_modules/onnxruntime-node]
  /usr/bin/python3 tools/reference/upgrade_opset.py --self-test --peer PEER
"""
import argparse
import glob
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference, version_converter

CONVERTER_LIMIT = 17  # the newest opset python3-onnx 1.12's version converter reaches
NEWEST = 21
# The IR version each opset came with (ONNX 1.13: 8, 1.14 and 1.15: 9, 1.16: 10).
IR_VERSION = {18: 8, 19: 9, 20: 9, 21: 10}
REDUCE_WITH_AXES_INPUT = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
                          "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare"}


class Names:
    """Fresh value names, unique across the model and all its bodies."""

    def __init__(self, model):
        self.used = set()
        for g in graphs(model.graph):
            self.used.update(v.name for v in list(g.input) + list(g.output) + list(g.initializer))
            for n in g.node:
                self.used.update(n.input)
                self.used.update(n.output)

    def fresh(self, base):
        name, k = base, 0
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


def graphs(graph):
    """The graph and every body inside it, outermost first."""
    yield graph
    for n in graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from graphs(a.g)
            for g in a.graphs:
                yield from graphs(g)


def take_attribute(node, name):
    """Removes attribute `name` from the node and returns it (None if absent)."""
    for k, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[k]
            return a
    return None


def int64_constant(names, base, values):
    """A Constant node holding int64 `values` (a list, or an int for a scalar) and its output."""
    out = names.fresh(base)
    array = np.array(values, dtype=np.int64)
    node = helper.make_node("Constant", [], [out], name=out,
                            value=numpy_helper.from_array(array, out))
    return node, out


def rebuild(graph, edit):
    """Replaces graph.node with the nodes edit(node) returns for each (a list: new ones first)."""
    nodes = []
    for n in graph.node:
        nodes.extend(edit(n))
    del graph.node[:]
    graph.node.extend(nodes)


def step_18(model, names):
    def edit(n):
        if n.domain not in ("", "ai.onnx"):
            return [n]
        if n.op_type in REDUCE_WITH_AXES_INPUT:
            axes = take_attribute(n, "axes")
            if axes is None:  # reduce over every axis: the same without the input
                return [n]
            const, out = int64_constant(names, f"{n.output[0]}_axes", list(axes.ints))
            del n.input[1:]
            n.input.append(out)
            return [const, n]
        if n.op_type == "Split" and (len(n.input) < 2 or not n.input[1]):
            del n.input[1:]
            n.attribute.append(helper.make_attribute("num_outputs", len(n.output)))
        return [n]

    for g in graphs(model.graph):
        rebuild(g, edit)


def step_20(model, names):
    modes = {"bilinear": b"linear", "bicubic": b"cubic"}

    def edit(n):
        if n.domain not in ("", "ai.onnx"):
            return [n]
        if n.op_type == "DFT":
            axis = take_attribute(n, "axis")
            const, out = int64_constant(names, f"{n.output[0]}_axis", axis.i if axis else 1)
            while len(n.input) < 2:
                n.input.append("")  # no dft_length
            del n.input[2:]
            n.input.append(out)
            return [const, n]
        if n.op_type == "GridSample":
            for a in n.attribute:
                if a.name == "mode" and a.s.decode() in modes:
                    a.s = modes[a.s.decode()]
        return [n]

    for g in graphs(model.graph):
        rebuild(g, edit)


def step_21(model, names):
    for g in graphs(model.graph):
        for n in g.node:
            if n.domain in ("", "ai.onnx") and n.op_type == "GroupNormalization":
                sys.exit(f"{n.name}: GroupNormalization's scale and bias become per channel at "
                         "opset 21; this tool does not rewrite them")


STEPS = {18: step_18, 19: None, 20: step_20, 21: step_21}


def complete_ranks(model):
    """ONNX 1.12's shape inference loses the rank after a Reshape to a computed shape, and its
    version converter needs ranks (Softmax 12->13). A Reshape's output has as many axes as its
    shape input has elements: write that down and infer again until nothing is added."""
    for _ in range(100):  # each round adds at least one rank; real models need a few
        model = shape_inference.infer_shapes(model)
        g = model.graph
        known = {v.name: v for v in list(g.value_info) + list(g.input) + list(g.output)}
        for t in g.initializer:
            known.setdefault(t.name, helper.make_tensor_value_info(t.name, t.data_type, t.dims))
        added = 0
        for n in g.node:
            if n.op_type != "Reshape":
                continue
            out, shape = known.get(n.output[0]), known.get(n.input[1])
            if shape is None or (out is not None and out.type.tensor_type.HasField("shape")):
                continue
            dims = shape.type.tensor_type.shape.dim
            if len(dims) != 1 or not dims[0].HasField("dim_value"):
                continue
            data = known.get(n.input[0])
            elem = data.type.tensor_type.elem_type if data is not None else 0
            if out is not None:
                g.value_info.remove(out)
            g.value_info.append(helper.make_tensor_value_info(n.output[0], elem,
                                                              [None] * dims[0].dim_value))
            added += 1
        if not added:
            break
    return model


def default_opset(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def upgrade(model, target):
    """The model converted to `target` (18-21) of the default domain; returns (model, steps)."""
    start = default_opset(model)
    if start is None or start > target:
        sys.exit(f"model's default opset is {start}: cannot take it to {target}")
    done = []
    if start < CONVERTER_LIMIT:
        value_info = list(model.graph.value_info)
        model = version_converter.convert_version(complete_ranks(model), CONVERTER_LIMIT)
        del model.graph.value_info[:]  # only what the model said itself, not what was inferred
        model.graph.value_info.extend(value_info)
        done.append(f"{start}->{CONVERTER_LIMIT} (onnx {onnx.__version__} version converter)")
        start = CONVERTER_LIMIT
    names = Names(model)
    for opset in range(start + 1, target + 1):
        if STEPS[opset]:
            STEPS[opset](model, names)
        done.append(f"{opset - 1}->{opset}")
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = target
    model.ir_version = max(model.ir_version, IR_VERSION.get(target, model.ir_version))
    return model, done


def check_with_reference_runtime(original, converted, inputs_dir, peer):
    """Runs both models through ONNX Runtime on the folder's inputs; returns the largest
    difference relative to max(1, the output's largest magnitude)."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import make_reference  # beside this file; needs numpy and node only when called
    values = []
    for path in sorted(glob.glob(os.path.join(inputs_dir, "input_*.pb")),
                       key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0])):
        t = onnx.load_tensor(path)
        values.append((t.name, numpy_helper.to_array(t)))
    outputs = []
    for model in (original, converted):
        with tempfile.TemporaryDirectory() as tmp:
            n = make_reference.run_reference(model, values, peer, tmp, here)
            outputs.append([numpy_helper.to_array(onnx.load_tensor(
                os.path.join(tmp, f"output_{i}.pb"))) for i in range(n)])
    worst = 0.0
    assert len(outputs[0]) == len(outputs[1])
    for a, b in zip(*outputs):
        assert a.shape == b.shape, (a.shape, b.shape)
        worst = max(worst, float(np.abs(a - b).max() / max(1.0, np.abs(a).max())))
    return worst, len(outputs[0])


def self_test_model():
    """An opset-17 model with a node of every kind a step rewrites, one of them in an If body:
    ReduceMax with axes, Split into equal parts, DFT with an axis, bilinear GridSample."""
    f = onnx.TensorProto.FLOAT

    def body(name, axes):
        return helper.make_graph(
            [helper.make_node("ReduceMean", ["x"], [f"{name}_y"], axes=axes, keepdims=0)], name,
            [], [helper.make_tensor_value_info(f"{name}_y", f, None)])
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["peak"], axes=[1], keepdims=1),
        helper.make_node("Split", ["x"], ["left", "right"], axis=2),
        helper.make_node("Reshape", ["signal_flat", "signal_shape"], ["signal"]),
        helper.make_node("DFT", ["signal"], ["spectrum"], axis=1, onesided=0),
        helper.make_node("GridSample", ["image", "grid"], ["sampled"], mode="bilinear",
                         align_corners=0),
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["branch"], then_branch=body("then", [0]),
                         else_branch=body("else", [2])),
    ]
    graph = helper.make_graph(
        nodes, "self_test",
        [helper.make_tensor_value_info("x", f, [2, 6, 4]),
         helper.make_tensor_value_info("signal_flat", f, [24]),
         helper.make_tensor_value_info("image", f, [1, 1, 4, 4]),
         helper.make_tensor_value_info("grid", f, [1, 3, 3, 2])],
        [helper.make_tensor_value_info(n, f, None)
         for n in ("peak", "left", "right", "spectrum", "sampled", "branch")],
        [numpy_helper.from_array(np.array([1, 8, 3, 1], dtype=np.int64), "signal_shape"),
         numpy_helper.from_array(np.array(0, dtype=np.float32), "zero")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def self_test(peer):
    """Converts self_test_model() to every newer opset and runs each through ONNX Runtime
    beside the original: the rewrites that no real model here exercises, proved the same way."""
    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(0, 1, (2, 6, 4)), "signal_flat": rng.normal(0, 1, 24),
              "image": rng.normal(0, 1, (1, 1, 4, 4)), "grid": rng.uniform(-1, 1, (1, 3, 3, 2))}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, x) in enumerate(inputs.items()):
            onnx.save_tensor(numpy_helper.from_array(x.astype(np.float32), name),
                             os.path.join(tmp, f"input_{k}.pb"))
        original = os.path.join(tmp, "opset17.onnx")
        onnx.save(self_test_model(), original)
        for opset in range(18, NEWEST + 1):
            converted = os.path.join(tmp, f"opset{opset}.onnx")
            onnx.save(upgrade(onnx.load(original), opset)[0], converted)
            worst, n = check_with_reference_runtime(original, converted, tmp, peer)
            print(f"self test, opset 17 vs {opset}: {n} outputs, largest difference {worst:.2g}")
            assert worst < 1e-6, "a step changed what the model computes"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--opset", type=int, default=NEWEST, choices=range(18, NEWEST + 1))
    ap.add_argument("--check-inputs", help="a folder of input_<k>.pb to run both models on")
    ap.add_argument("--peer", help="path of the onnxruntime-node module (with --check-inputs)")
    ap.add_argument("--self-test", action="store_true",
                    help="convert a small model of every rewritten op and check it with --peer")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.peer)
    if not args.out:
        ap.error("MODEL and OUT are needed")
    model, steps = upgrade(onnx.load(args.model), args.opset)
    onnx.save(model, args.out)
    print(f"{args.model} -> {args.out}: opset {', '.join(steps)}")
    if args.check_inputs:
        worst, n = check_with_reference_runtime(args.model, args.out, args.check_inputs, args.peer)
        print(f"  ONNX Runtime, original vs opset {args.opset}: {n} outputs, largest difference "
              f"{worst:.2g} of max(1, |output|)")
        assert worst < 1e-5, "the converted model computes something else"


if __name__ == "__main__":
    sys.exit(main())
