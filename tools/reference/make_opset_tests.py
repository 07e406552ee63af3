#!/usr/bin/python3
"""Makes node tests for ONNX opsets 18-21, which Debian 12's test data (ONNX 1.12) predates.

Each case is one node, built with onnx.helper, and its expected outputs are computed here with
NumPy from the operator's definition in the ONNX specification, not by any runtime. The cases
are written in the layout of ONNX's own node tests (<out>/<name>/model.onnx and
test_data_set_0/{input,output}_<i>.pb), so that tests/node_conformance runs them like the
others (ctest conformance.onnx_newer_opsets).

Usage (from the repository root):
  /usr/bin/python3 tools/reference/make_opset_tests.py --out tests/data/onnx_newer_opsets
"""
import argparse
import math
import os
import shutil
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def rng(seed):
    return np.random.default_rng(seed)


# A case returns (op_type, opset, inputs, outputs, attributes): inputs and outputs are lists
# of (name, numpy array); an input named "" is omitted.


# ---- opset 18: Reduce* take axes as an input --------------------------------------------------
REDUCERS = {
    "ReduceL1": lambda x, a, k: np.sum(np.abs(x), axis=a, keepdims=k),
    "ReduceL2": lambda x, a, k: np.sqrt(np.sum(x * x, axis=a, keepdims=k)),
    "ReduceLogSum": lambda x, a, k: np.log(np.sum(x, axis=a, keepdims=k)),
    "ReduceLogSumExp": lambda x, a, k: np.log(np.sum(np.exp(x), axis=a, keepdims=k)),
    "ReduceMax": lambda x, a, k: np.max(x, axis=a, keepdims=k),
    "ReduceMean": lambda x, a, k: np.mean(x, axis=a, keepdims=k),
    "ReduceMin": lambda x, a, k: np.min(x, axis=a, keepdims=k),
    "ReduceProd": lambda x, a, k: np.prod(x, axis=a, keepdims=k),
    "ReduceSumSquare": lambda x, a, k: np.sum(x * x, axis=a, keepdims=k),
}


def make_reduce_cases():
    for seed, (op, f) in enumerate(REDUCERS.items()):
        snake = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")

        def axes_input(op=op, f=f, seed=seed):
            x = rng(seed).uniform(0.5, 2.0, (3, 2, 4)).astype(np.float32)
            axes = np.array([-1, 0], dtype=np.int64)
            y = f(x.astype(np.float64), (2, 0), True).astype(np.float32)
            return op, 18, [("x", x), ("axes", axes)], [("y", y)], {"keepdims": 1}

        def no_keepdims(op=op, f=f, seed=seed):
            x = rng(seed + 50).uniform(0.5, 2.0, (2, 3, 2)).astype(np.float32)
            y = f(x.astype(np.float64), (1,), False).astype(np.float32)
            return op, 18, [("x", x), ("axes", np.array([1], np.int64))], [("y", y)], {"keepdims": 0}

        def empty_axes_noop(op=op, seed=seed):
            x = rng(seed + 100).uniform(0.5, 2.0, (2, 3)).astype(np.float32)
            return (op, 18, [("x", x), ("axes", np.zeros((0,), np.int64))], [("y", x)],
                    {"noop_with_empty_axes": 1})

        def omitted_axes_all(op=op, f=f, seed=seed):
            x = rng(seed + 150).uniform(0.5, 2.0, (2, 3)).astype(np.float32)
            y = f(x.astype(np.float64), None, True).astype(np.float32)
            return op, 18, [("x", x)], [("y", y)], {}

        CASES[f"test_opset18_{snake}_axes_input"] = axes_input
        CASES[f"test_opset18_{snake}_no_keepdims"] = no_keepdims
        CASES[f"test_opset18_{snake}_empty_axes_noop"] = empty_axes_noop
        CASES[f"test_opset18_{snake}_no_axes_reduces_all"] = omitted_axes_all


make_reduce_cases()


@case
def test_opset20_reduce_max_bool():
    x = np.array([[True, False, False], [False, False, False]])
    y = np.max(x, axis=1, keepdims=True)
    return "ReduceMax", 20, [("x", x), ("axes", np.array([1], np.int64))], [("y", y)], {}


@case
def test_opset20_reduce_min_bool():
    x = np.array([[True, True, False], [True, True, True]])
    y = np.min(x, axis=1, keepdims=False)
    return ("ReduceMin", 20, [("x", x), ("axes", np.array([1], np.int64))], [("y", y)],
            {"keepdims": 0})


# ---- Pad: axes (18), wrap (19) -----------------------------------------------------------------
@case
def test_opset18_pad_constant_axes():
    x = rng(1).standard_normal((1, 3, 4, 5)).astype(np.float32)
    pads = np.array([0, 3, 1, 4], dtype=np.int64)  # axes 1 and 3: begins, then ends
    y = np.pad(x, [(0, 0), (0, 1), (0, 0), (3, 4)], mode="constant", constant_values=1.5)
    return ("Pad", 18, [("x", x), ("pads", pads), ("value", np.array(1.5, np.float32)),
                        ("axes", np.array([1, 3], np.int64))], [("y", y)], {"mode": "constant"})


@case
def test_opset18_pad_negative_axes_edge():
    x = rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    pads = np.array([2, 0, 1, 3], dtype=np.int64)  # axes -1 and -2
    y = np.pad(x, [(0, 0), (0, 3), (2, 1)], mode="edge")
    return ("Pad", 18, [("x", x), ("pads", pads), ("", None),
                        ("axes", np.array([-1, -2], np.int64))], [("y", y)], {"mode": "edge"})


@case
def test_opset19_pad_wrap():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    pads = np.array([2, 1, 1, 3], dtype=np.int64)
    y = np.pad(x, [(2, 1), (1, 3)], mode="wrap")
    return "Pad", 19, [("x", x), ("pads", pads)], [("y", y)], {"mode": "wrap"}


# ---- Split: num_outputs (18) -------------------------------------------------------------------
@case
def test_opset18_split_num_outputs_uneven():
    x = np.arange(7, dtype=np.float32)
    outs = [x[0:3], x[3:6], x[6:7]]  # ceil(7/3) = 3 per chunk, the last one smaller
    return ("Split", 18, [("x", x)], [(f"y{i}", o) for i, o in enumerate(outs)],
            {"num_outputs": 3})


@case
def test_opset18_split_num_outputs_axis1():
    x = np.arange(24, dtype=np.float32).reshape(2, 12)
    outs = np.split(x, 4, axis=1)
    return ("Split", 18, [("x", x)], [(f"y{i}", o) for i, o in enumerate(outs)],
            {"num_outputs": 4, "axis": 1})


# ---- Resize: antialias, keep_aspect_ratio_policy, axes (18) ------------------------------------
def antialias_linear_1d(x, out_len, axis):
    """Downsampling with a triangle filter widened by 1/scale (half_pixel coordinates)."""
    in_len = x.shape[axis]
    scale = out_len / in_len
    support = 1.0 / scale if scale < 1 else 1.0
    moved = np.moveaxis(x, axis, -1)
    out = np.zeros(moved.shape[:-1] + (out_len,))
    for o in range(out_len):
        center = (o + 0.5) / scale - 0.5
        lo = int(math.floor(center - support)) + 1
        hi = int(math.ceil(center + support))
        ws, idx = [], []
        for i in range(lo, hi):
            w = max(0.0, 1.0 - abs(i - center) / support)
            if w > 0:
                ws.append(w)
                idx.append(min(max(i, 0), in_len - 1))
        ws = np.array(ws) / sum(ws)
        out[..., o] = np.tensordot(moved[..., idx], ws, axes=([-1], [0]))
    return np.moveaxis(out, -1, axis)


@case
def test_opset18_resize_downsample_linear_antialias():
    x = rng(3).uniform(0, 1, (1, 1, 8, 8)).astype(np.float32)
    y = antialias_linear_1d(antialias_linear_1d(x.astype(np.float64), 3, 2), 3, 3)
    scales = np.array([1, 1, 3 / 8, 3 / 8], dtype=np.float32)
    return ("Resize", 18, [("x", x), ("", None), ("scales", scales)], [("y", y.astype(np.float32))],
            {"mode": "linear", "antialias": 1})


@case
def test_opset18_resize_keep_aspect_ratio_not_larger():
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    # sizes [7, 8] with not_larger: scale min(7/4, 8/4) = 1.75 on both axes -> 7x7
    scale = 1.75
    out = 7
    idx = np.floor((np.arange(out) + 0.5) / scale - 0.5 + 0.5).astype(int)  # round_prefer_ceil
    idx = np.clip(idx, 0, 3)
    y = x[:, :, idx][:, :, :, idx]
    return ("Resize", 18,
            [("x", x), ("", None), ("", None), ("sizes", np.array([7, 8], np.int64))], [("y", y)],
            {"mode": "nearest", "axes": [2, 3], "keep_aspect_ratio_policy": "not_larger",
             "nearest_mode": "round_prefer_ceil"})


# ---- New operators of opset 18 -----------------------------------------------------------------
@case
def test_opset18_mish():
    x = np.linspace(-6, 6, 25, dtype=np.float32)
    xd = x.astype(np.float64)
    y = xd * np.tanh(np.log1p(np.exp(xd)))
    return "Mish", 18, [("x", x)], [("y", y.astype(np.float32))], {}


@case
def test_opset18_bitwise_and_int32_broadcast():
    a = rng(4).integers(-1000, 1000, (3, 4)).astype(np.int32)
    b = rng(5).integers(-1000, 1000, (4,)).astype(np.int32)
    return "BitwiseAnd", 18, [("a", a), ("b", b)], [("y", np.bitwise_and(a, b))], {}


@case
def test_opset18_bitwise_or_uint8():
    a = rng(6).integers(0, 256, (2, 5)).astype(np.uint8)
    b = rng(7).integers(0, 256, (2, 5)).astype(np.uint8)
    return "BitwiseOr", 18, [("a", a), ("b", b)], [("y", np.bitwise_or(a, b))], {}


@case
def test_opset18_bitwise_xor_int64():
    a = rng(8).integers(-2**40, 2**40, (6,)).astype(np.int64)
    b = rng(9).integers(-2**40, 2**40, (6,)).astype(np.int64)
    return "BitwiseXor", 18, [("a", a), ("b", b)], [("y", np.bitwise_xor(a, b))], {}


@case
def test_opset18_bitwise_not_int16():
    a = rng(10).integers(-30000, 30000, (3, 3)).astype(np.int16)
    return "BitwiseNot", 18, [("a", a)], [("y", np.bitwise_not(a))], {}


@case
def test_opset18_col2im():
    # The spec's example: a 5x5 image from its 1x1... im2col columns of 1x5 blocks, then a
    # 2x2 kernel with stride 1 and padding, checked by summing the blocks back here.
    n, c, kh, kw = 1, 2, 2, 3
    image = (5, 6)
    pads = (1, 0, 0, 1)  # top, left, bottom, right
    strides = (2, 1)
    dil = (1, 2)
    oh = (image[0] + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (image[1] + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    cols = rng(11).standard_normal((n, c * kh * kw, oh * ow)).astype(np.float32)
    padded = np.zeros((n, c, image[0] + pads[0] + pads[2], image[1] + pads[1] + pads[3]))
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                row = (ch * kh + i) * kw + j
                for by in range(oh):
                    for bx in range(ow):
                        padded[:, ch, by * strides[0] + i * dil[0], bx * strides[1] + j * dil[1]] += \
                            cols[:, row, by * ow + bx]
    y = padded[:, :, pads[0]:pads[0] + image[0], pads[1]:pads[1] + image[1]]
    return ("Col2Im", 18, [("x", cols), ("image_shape", np.array(image, np.int64)),
                           ("block_shape", np.array([kh, kw], np.int64))],
            [("y", y.astype(np.float32))],
            {"pads": list(pads[:2]) + list(pads[2:]), "strides": list(strides),
             "dilations": list(dil)})


@case
def test_opset18_center_crop_pad():
    x = rng(12).standard_normal((5, 3, 2)).astype(np.float32)
    # axis 0: crop 5 -> 3 (start (5-3)//2 = 1); axis 1: pad 3 -> 6 (begin (6-3)//2 = 1)
    y = np.zeros((3, 6, 2), np.float32)
    y[:, 1:4, :] = x[1:4]
    return ("CenterCropPad", 18, [("x", x), ("shape", np.array([3, 6], np.int64))], [("y", y)],
            {"axes": [0, 1]})


@case
def test_opset18_lppool_ceil_mode():
    x = rng(13).standard_normal((1, 2, 5, 5)).astype(np.float32)
    out = np.zeros((1, 2, 3, 3))
    for i in range(3):
        for j in range(3):
            win = x[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].astype(np.float64)
            out[:, :, i, j] = np.sqrt(np.sum(win * win, axis=(2, 3)))
    return ("LpPool", 18, [("x", x)], [("y", out.astype(np.float32))],
            {"kernel_shape": [2, 2], "strides": [2, 2], "p": 2, "ceil_mode": 1})


@case
def test_opset18_scatter_elements_reduction_max():
    data = np.array([[1, 2, 3, 4, 5]], np.float32)
    idx = np.array([[1, 1, 3]], np.int64)
    upd = np.array([[1.1, 2.5, -7.0]], np.float32)
    y = data.copy()
    for k in range(3):
        y[0, idx[0, k]] = max(y[0, idx[0, k]], upd[0, k])
    return ("ScatterElements", 18, [("data", data), ("indices", idx), ("updates", upd)],
            [("y", y)], {"axis": 1, "reduction": "max"})


@case
def test_opset18_scatter_nd_reduction_min():
    data = np.arange(16, dtype=np.float32).reshape(4, 4)
    idx = np.array([[0], [2], [0]], np.int64)
    upd = np.array([[5, -1, 5, 5], [0, 0, 100, 0], [-3, 9, 9, 9]], np.float32)
    y = data.copy()
    for k in range(3):
        y[idx[k, 0]] = np.minimum(y[idx[k, 0]], upd[k])
    return ("ScatterND", 18, [("data", data), ("indices", idx), ("updates", upd)], [("y", y)],
            {"reduction": "min"})


@case
def test_opset18_group_normalization():
    x = rng(14).standard_normal((2, 4, 3, 3)).astype(np.float32)
    groups, eps = 2, 1e-5
    scale = rng(15).standard_normal(groups).astype(np.float32)  # opset 18: per group
    bias = rng(16).standard_normal(groups).astype(np.float32)
    g = x.reshape(2, groups, -1).astype(np.float64)
    norm = (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)
    y = norm * scale[None, :, None] + bias[None, :, None]
    return ("GroupNormalization", 18, [("x", x), ("scale", scale), ("bias", bias)],
            [("y", y.reshape(x.shape).astype(np.float32))], {"num_groups": groups, "epsilon": eps})


@case
def test_opset21_group_normalization():
    x = rng(17).standard_normal((2, 6, 4)).astype(np.float32)
    groups, eps = 3, 1e-5
    scale = rng(18).standard_normal(6).astype(np.float32)  # opset 21: per channel
    bias = rng(19).standard_normal(6).astype(np.float32)
    g = x.reshape(2, groups, -1).astype(np.float64)
    norm = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps))
    y = norm.reshape(x.shape) * scale[None, :, None] + bias[None, :, None]
    return ("GroupNormalization", 21, [("x", x), ("scale", scale), ("bias", bias)],
            [("y", y.astype(np.float32))], {"num_groups": groups, "epsilon": eps})


# ---- opset 19 ----------------------------------------------------------------------------------
@case
def test_opset19_averagepool_dilations():
    x = rng(20).standard_normal((1, 1, 6, 6)).astype(np.float32)
    out = np.zeros((1, 1, 4, 4))
    for i in range(4):
        for j in range(4):
            out[0, 0, i, j] = x[0, 0, i:i + 3:2, j:j + 3:2].astype(np.float64).mean()
    return ("AveragePool", 19, [("x", x)], [("y", out.astype(np.float32))],
            {"kernel_shape": [2, 2], "dilations": [2, 2]})


# ---- opset 20 ----------------------------------------------------------------------------------
@case
def test_opset20_gelu_exact():
    x = np.linspace(-4, 4, 17, dtype=np.float32)
    y = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)]
    return "Gelu", 20, [("x", x)], [("y", np.array(y, np.float32))], {}


@case
def test_opset20_gelu_tanh():
    x = np.linspace(-4, 4, 17, dtype=np.float32)
    xd = x.astype(np.float64)
    y = 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd ** 3)))
    return "Gelu", 20, [("x", x)], [("y", y.astype(np.float32))], {"approximate": "tanh"}


def affine_grid_2d(theta, n, h, w, align):
    def lin(k):
        if align:
            return np.linspace(-1, 1, k)
        return (np.arange(k) * 2 + 1) / k - 1
    ys, xs = np.meshgrid(lin(h), lin(w), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], axis=-1)  # H, W, 3
    return np.einsum("nij,hwj->nhwi", theta.astype(np.float64), base)


@case
def test_opset20_affine_grid_2d():
    theta = rng(21).standard_normal((2, 2, 3)).astype(np.float32)
    y = affine_grid_2d(theta, 2, 3, 4, False).astype(np.float32)
    return ("AffineGrid", 20, [("theta", theta), ("size", np.array([2, 1, 3, 4], np.int64))],
            [("grid", y)], {"align_corners": 0})


@case
def test_opset20_affine_grid_2d_align_corners():
    theta = rng(22).standard_normal((1, 2, 3)).astype(np.float32)
    y = affine_grid_2d(theta, 1, 4, 2, True).astype(np.float32)
    return ("AffineGrid", 20, [("theta", theta), ("size", np.array([1, 3, 4, 2], np.int64))],
            [("grid", y)], {"align_corners": 1})


@case
def test_opset20_dft_axis_input():
    x = rng(23).standard_normal((2, 6, 1)).astype(np.float32)
    f = np.fft.fft(x[..., 0].astype(np.float64), axis=1)
    y = np.stack([f.real, f.imag], axis=-1).astype(np.float32)
    return ("DFT", 20, [("x", x), ("", None), ("axis", np.array(1, np.int64))], [("y", y)], {})


@case
def test_opset20_dft_onesided_length():
    x = rng(24).standard_normal((1, 5, 1)).astype(np.float32)
    f = np.fft.rfft(x[..., 0].astype(np.float64), n=8, axis=1)
    y = np.stack([f.real, f.imag], axis=-1).astype(np.float32)
    return ("DFT", 20, [("x", x), ("dft_length", np.array(8, np.int64)),
                        ("axis", np.array(-2, np.int64))], [("y", y)], {"onesided": 1})


# ---- opset 21 ----------------------------------------------------------------------------------
def round_half_even(v):
    return np.rint(v)  # NumPy rounds half to even


@case
def test_opset21_quantize_linear_blocked():
    x = rng(25).uniform(-10, 10, (2, 6)).astype(np.float32)
    scale = np.array([[0.1, 0.2, 0.05], [0.3, 0.07, 0.5]], np.float32)  # block_size 2 on axis 1
    zp = np.array([[0, 3, -4], [1, 0, 2]], np.int8)
    s = np.repeat(scale, 2, axis=1)
    z = np.repeat(zp, 2, axis=1).astype(np.float64)
    y = np.clip(round_half_even(x / s) + z, -128, 127).astype(np.int8)
    return ("QuantizeLinear", 21, [("x", x), ("scale", scale), ("zero_point", zp)], [("y", y)],
            {"axis": 1, "block_size": 2})


@case
def test_opset21_dequantize_linear_blocked():
    x = rng(26).integers(0, 256, (4, 3)).astype(np.uint8)
    scale = np.array([[0.5, 0.25, 2.0], [0.1, 1.0, 0.75]], np.float32)  # block_size 2 on axis 0
    zp = np.array([[128, 0, 10], [3, 255, 100]], np.uint8)
    s = np.repeat(scale, 2, axis=0)
    z = np.repeat(zp, 2, axis=0)
    y = ((x.astype(np.int32) - z.astype(np.int32)) * s).astype(np.float32)
    return ("DequantizeLinear", 21, [("x", x), ("scale", scale), ("zero_point", zp)], [("y", y)],
            {"axis": 0, "block_size": 2})


# ---- writing -----------------------------------------------------------------------------------
ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
        np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
        np.dtype(np.int16): TensorProto.INT16, np.dtype(np.int8): TensorProto.INT8,
        np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.bool_): TensorProto.BOOL}


def write_case(out, name, spec):
    op, opset, inputs, outputs, attrs = spec
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    node = helper.make_node(op, [n for n, _ in inputs], [n for n, _ in outputs], **attrs)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, ELEM[v.dtype], v.shape) for n, v in inputs if n],
        [helper.make_tensor_value_info(n, ELEM[v.dtype], v.shape) for n, v in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="make_opset_tests.py")
    model.ir_version = 8
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    k = 0
    for n, v in inputs:
        if not n:
            continue
        with open(os.path.join(d, "test_data_set_0", f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
        k += 1
    for i, (n, v) in enumerate(outputs):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(np.asarray(v), n).SerializeToString())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in sorted(CASES):
        write_case(args.out, name, CASES[name]())
    print(f"{len(CASES)} cases -> {args.out}")


if __name__ == "__main__":
    sys.exit(main())
