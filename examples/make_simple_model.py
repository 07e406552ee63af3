#!/usr/bin/python3
"""Writes examples/model_repository/simple/1/model.onnx: the two-input model of Triton's
client examples (INPUT0 + INPUT1 -> OUTPUT0, INPUT0 - INPUT1 -> OUTPUT1, INT32 [batch, 16]),
so those clients run against `supernova serve` unchanged. Needs Debian's python3-onnx."""
import os
import onnx
from onnx import TensorProto, helper

here = os.path.dirname(os.path.abspath(__file__))
shape = ["batch", 16]
graph = helper.make_graph(
    [helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"], name="sum"),
     helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"], name="difference")],
    "simple",
    [helper.make_tensor_value_info("INPUT0", TensorProto.INT32, shape),
     helper.make_tensor_value_info("INPUT1", TensorProto.INT32, shape)],
    [helper.make_tensor_value_info("OUTPUT0", TensorProto.INT32, shape),
     helper.make_tensor_value_info("OUTPUT1", TensorProto.INT32, shape)])
model = helper.make_model(graph, producer_name="supernova-examples",
                          opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "model_repository", "simple", "1", "model.onnx"))
