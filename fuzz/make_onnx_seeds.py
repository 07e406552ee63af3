#!/usr/bin/python3
"""Writes the seed corpus of the onnx_model fuzz target: small ONNX models (a few KB each) that
between them use the common ops and the structures the importer and shape inference handle
(initializers, attributes of every kind, symbolic dims, subgraphs with captured values).
libFuzzer mutates them; starting from valid models lets it reach session creation and the
kernels instead of spending its time on protobuf's parser. With --hostile it writes instead
the hostile models of tests/ir/hostile_models_test.cc (issue 19) that fit in one file, which
fuzz/regressions/onnx_model/ keeps so that every tree replays them under its sanitizers.

  /usr/bin/python3 fuzz/make_onnx_seeds.py fuzz/corpus/onnx_model
  /usr/bin/python3 fuzz/make_onnx_seeds.py --hostile fuzz/regressions/onnx_model

Needs the onnx and numpy Python packages (Debian's python3-onnx). The output is deterministic.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def rnd(*shape):
    # Fixed seed per shape: the same bytes on every run.
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(np.float32)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def conv_relu_pool():
    return model(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("GlobalAveragePool", ["p"], ["y"])],
        [vi("x", F, [1, 3, 8, 8])], [vi("y", F, [1, 4, 1, 1])],
        [init("w", rnd(4, 3, 3, 3)), init("b", rnd(4))])


def gemm_softmax():
    return model(
        [helper.make_node("Flatten", ["x"], ["f"], axis=1),
         helper.make_node("Gemm", ["f", "w", "b"], ["g"], transB=1, alpha=0.5),
         helper.make_node("Softmax", ["g"], ["y"], axis=-1)],
        [vi("x", F, ["N", 2, 4])], [vi("y", F, ["N", 5])],
        [init("w", rnd(5, 8)), init("b", rnd(5))])


def reshape_transpose():
    return model(
        [helper.make_node("Reshape", ["x", "s"], ["r"]),
         helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
         helper.make_node("Shape", ["t"], ["sh"]),
         helper.make_node("Expand", ["t", "e"], ["y"])],
        [vi("x", F, [2, 12])], [vi("y", F, [2, 4, 6]), vi("sh", I64, [3])],
        [init("s", np.array([2, 6, 4], np.int64)), init("e", np.array([1, 1, 1], np.int64))])


def resize_pad():
    return model(
        [helper.make_node("Resize", ["x", "", "scales"], ["r"], mode="linear"),
         helper.make_node("Pad", ["r", "pads"], ["p"], mode="reflect"),
         helper.make_node("Tile", ["p", "reps"], ["y"])],
        [vi("x", F, [1, 1, 4, 4])], [vi("y", F, [1, 2, 10, 10])],
        [init("scales", np.array([1, 1, 2, 2], np.float32)),
         init("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
         init("reps", np.array([1, 2, 1, 1], np.int64))])


def concat_gather_slice():
    return model(
        [helper.make_node("Concat", ["x", "c"], ["cat"], axis=1),
         helper.make_node("Gather", ["cat", "idx"], ["g"], axis=1),
         helper.make_node("Slice", ["g", "st", "en", "ax"], ["sl"]),
         helper.make_node("Unsqueeze", ["sl", "ax"], ["u"]),
         helper.make_node("Squeeze", ["u", "ax"], ["y"])],
        [vi("x", F, [3, 2])], [vi("y", F, [2, 3])],
        [init("c", rnd(3, 3)), init("idx", np.array([4, 0, 2], np.int64)),
         init("st", np.array([1], np.int64)), init("en", np.array([3], np.int64)),
         init("ax", np.array([0], np.int64))])


def constant_of_shape_range():
    return model(
        [helper.make_node("Shape", ["x"], ["s"]),
         helper.make_node("ConstantOfShape", ["s"], ["z"],
                          value=helper.make_tensor("v", F, [1], [1.5])),
         helper.make_node("Range", ["a", "b", "d"], ["r"]),
         helper.make_node("Add", ["z", "r"], ["y"])],
        [vi("x", F, [2, 4])], [vi("y", F, [2, 4])],
        [init("a", np.array(0, np.float32)), init("b", np.array(4, np.float32)),
         init("d", np.array(1, np.float32))])


def loop_counter():
    body = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "x"], ["acc_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [vi("i", I64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", F, [2])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F, [2])])
    return model(
        [helper.make_node("Loop", ["n", "", "a0"], ["y"], body=body)],
        [vi("x", F, [2])], [vi("y", F, [2])],
        [init("n", np.array(3, np.int64)), init("a0", np.zeros(2, np.float32))])


def if_branches():
    then = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [],
                             [vi("t", F, [4])])
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                              [vi("e", F, [4])])
    return model(
        [helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
         helper.make_node("Greater", ["s", "zero"], ["c"]),
         helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)],
        [vi("x", F, [4])], [vi("y", F, [4])], [init("zero", np.array(0, np.float32))])


def matmul_layernorm():
    return model(
        [helper.make_node("MatMul", ["x", "w"], ["m"]),
         helper.make_node("LayerNormalization", ["m", "g", "b"], ["l"], axis=-1),
         helper.make_node("Where", ["cond", "l", "m"], ["y"])],
        [vi("x", F, [1, 3, 4]), vi("cond", TensorProto.BOOL, [1, 3, 6])], [vi("y", F, [1, 3, 6])],
        [init("w", rnd(4, 6)), init("g", np.ones(6, np.float32)),
         init("b", np.zeros(6, np.float32))], opset=17)


def batchnorm_conv_transpose():
    return model(
        [helper.make_node("ConvTranspose", ["x", "w"], ["c"], strides=[2, 2]),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
         helper.make_node("Sigmoid", ["n"], ["sg"]),
         helper.make_node("Mul", ["n", "sg"], ["y"])],
        [vi("x", F, [1, 2, 3, 3])], [vi("y", F, [1, 3, 6, 6])],
        [init("w", rnd(2, 3, 2, 2)), init("s", np.ones(3, np.float32)),
         init("b", np.zeros(3, np.float32)), init("m", np.zeros(3, np.float32)),
         init("v", np.ones(3, np.float32))])


def cast_reduce_topk():
    return model(
        [helper.make_node("Cast", ["x"], ["c"], to=F),
         helper.make_node("ReduceMean", ["c"], ["r"], axes=[1], keepdims=1),
         helper.make_node("TopK", ["c", "k"], ["v", "i"], axis=1),
         helper.make_node("ArgMax", ["v"], ["y"], axis=1)],
        [vi("x", TensorProto.INT32, [2, 5])], [vi("y", I64, [2, 1]), vi("r", F, [2, 1])],
        [init("k", np.array([3], np.int64))])


def split_where_clip():
    return model(
        [helper.make_node("Split", ["x", "parts"], ["a", "b"], axis=0),
         helper.make_node("Clip", ["a", "lo", "hi"], ["c"]),
         helper.make_node("Sub", ["c", "b"], ["d"]),
         helper.make_node("Einsum", ["d", "d"], ["y"], equation="ij,ij->i")],
        [vi("x", F, [4, 3])], [vi("y", F, [2])],
        [init("parts", np.array([2, 2], np.int64)), init("lo", np.array(-1, np.float32)),
         init("hi", np.array(1, np.float32))])


SEEDS = [conv_relu_pool, gemm_softmax, reshape_transpose, resize_pad, concat_gather_slice,
         constant_of_shape_range, loop_counter, if_branches, matmul_layernorm,
         batchnorm_conv_transpose, cast_reduce_topk, split_where_clip]


def unchecked(nodes, inputs, outputs, inits=(), opset=13, domains=()):
    # Hostile on purpose: onnx.checker would refuse most of these.
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    imports = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(graph, opset_imports=imports)
    m.ir_version = 8
    return m


def identity_over(dims):
    return unchecked([helper.make_node("Identity", ["x"], ["y"])], [vi("x", F, dims)],
                     [vi("y", F, dims)])


def shape_bomb(op, x_dims, consts, inputs):
    # y = op(x, consts...): a constant shape-like input asking for exabytes or more.
    inits = [init(name, value) for name, value in consts]
    return unchecked([helper.make_node(op, inputs, ["y"])], [vi("x", F, x_dims)],
                     [helper.make_tensor_value_info("y", F, None)], inits)


def empty_tensor(name, dims):
    # Dims with no data behind them (make_tensor would insist on the values).
    t = TensorProto()
    t.name, t.data_type = name, F
    t.dims.extend(dims)
    return t


def external(entries):
    w = empty_tensor("w", [4])
    w.data_location = TensorProto.EXTERNAL
    for key, value in entries:
        e = w.external_data.add()
        e.key, e.value = key, value
    return unchecked([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", F, [4])],
                     [vi("y", F, [4])], [w])


def nested_ifs(depth):
    cond = helper.make_tensor("cond", TensorProto.BOOL, [], [True])
    inner = helper.make_graph([helper.make_node("Identity", ["x"], ["innermost"])], "leaf", [],
                              [vi("innermost", F, [1])])
    out = "innermost"
    for level in reversed(range(depth)):
        y = "y%d" % level
        other = helper.make_graph([helper.make_node("Identity", ["x"], ["e%d" % level])],
                                  "else%d" % level, [], [vi("e%d" % level, F, [1])])
        node = helper.make_node("If", ["cond"], [y], then_branch=inner, else_branch=other)
        inner = helper.make_graph([node], "then%d" % level, [], [vi(y, F, [1])])
        out = y
    return unchecked(list(inner.node), [vi("x", F, [1])], [vi(out, F, [1])], [cond])


def hostile():
    big, huge = 1 << 20, 1 << 32
    i64 = lambda *v: np.array(v, np.int64)
    cyc = unchecked([helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
                    [vi("x", F, [1])], [vi("b", F, [1])])
    return {
        "huge_input_dim": identity_over([1 << 62, 4]),
        "huge_initializer_dim": unchecked(
            [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", F, [1])], [vi("y", F, [1])],
            [empty_tensor("w", [1 << 62])]),
        "initializer_12gb_without_data": unchecked(
            [helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", F, [1])], [vi("y", F, [1])],
            [empty_tensor("w", [3 << 30])]),
        "negative_dim": identity_over([2, -3]),
        "overflowing_dims": identity_over([1 << 22, 1 << 22, 1 << 22]),
        "reshape_exabytes": shape_bomb("Reshape", [2], [("s", i64(big, big, big))], ["x", "s"]),
        "expand_exabytes": shape_bomb("Expand", [1], [("s", i64(big, big, big))], ["x", "s"]),
        "expand_overflowing": shape_bomb("Expand", [1], [("s", i64(huge, huge, huge))], ["x", "s"]),
        "tile_overflowing": shape_bomb("Tile", [2, 2], [("r", i64(huge, huge))], ["x", "r"]),
        "constant_of_shape_exabytes": unchecked(
            [helper.make_node("ConstantOfShape", ["s"], ["c"]),
             helper.make_node("Add", ["c", "x"], ["y"])], [vi("x", F, [1])],
            [helper.make_tensor_value_info("y", F, None)], [init("s", i64(huge, huge, huge))]),
        "resize_sizes_huge": shape_bomb("Resize", [1, 1, 2, 2], [("sizes", i64(1, 1, huge, huge))],
                                        ["x", "", "", "sizes"]),
        "resize_scales_huge": shape_bomb(
            "Resize", [1, 1, 2, 2], [("scales", np.array([1, 1, 1e9, 1e9], np.float32))],
            ["x", "", "scales"]),
        "pad_huge": shape_bomb("Pad", [2, 2], [("p", i64(*[big * big] * 4))], ["x", "p"]),
        "cycle": cyc,
        "missing_initializer": unchecked([helper.make_node("Add", ["x", "missing_weight"], ["y"])],
                                         [vi("x", F, [1])], [vi("y", F, [1])]),
        "unknown_op": unchecked([helper.make_node("NoSuchOp", ["x"], ["y"])], [vi("x", F, [1])],
                                [vi("y", F, [1])]),
        "unknown_domain": unchecked(
            [helper.make_node("Relu", ["x"], ["y"], domain="com.example.nowhere")],
            [vi("x", F, [1])], [vi("y", F, [1])], domains=["com.example.nowhere"]),
        "nested_if_200": nested_ifs(200),
        "nested_if_25": nested_ifs(25),
        "external_dotdot": external([("location", "../secret.bin")]),
        "external_absolute": external([("location", "/etc/passwd")]),
        "external_offset_overflow": external([("location", "w.bin"),
                                              ("offset", str((1 << 63) - 1)), ("length", "16")]),
        "external_offset_not_a_number": external([("location", "w.bin"), ("offset", "twelve")]),
    }


def main():
    args = sys.argv[1:]
    if args and args[0] == "--hostile":
        out = args[1] if len(args) > 1 else "fuzz/regressions/onnx_model"
        models = {"hostile_" + name: m for name, m in hostile().items()}
        limit = 65536  # the fuzzer's -max_len
    else:
        out = args[0] if args else "fuzz/corpus/onnx_model"
        models = {make.__name__: make() for make in SEEDS}
        limit = 20000
    os.makedirs(out, exist_ok=True)
    for name, m in models.items():
        data = m.SerializeToString()
        assert len(data) < limit, name
        with open(os.path.join(out, name + ".onnx"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
