#include "compress/resize_input.h"

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "ops/shape_inference.h"
#include "supernova/session.h"

namespace supernova::compress {
namespace {

// The value of a constant operand: an initializer or a Constant node's `value`.
const Tensor* ConstantValue(const ir::Graph& g, const std::string& name) {
  if (auto it = g.initializers.find(name); it != g.initializers.end()) return &it->second;
  for (const ir::Node& n : g.nodes) {
    if (n.op_type != "Constant" || n.outputs.empty() || n.outputs[0] != name) continue;
    const ir::Attribute* v = n.FindAttr("value");
    return v != nullptr && v->kind == ir::Attribute::Kind::kTensor ? &v->t : nullptr;
  }
  return nullptr;
}

std::string UniqueName(const ir::Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.initializers.count(name) || g.value_types.count(name); ++i)
    name = base + "_" + std::to_string(i);
  return name;
}

// The float scale whose product with `in`, floored as Resize does, gives `out`: the nearest
// float to out / in can land just below an integer product (3 * float(7/3) < 7).
float ScaleFor(int64_t out, int64_t in) {
  float s = static_cast<float>(static_cast<double>(out) / static_cast<double>(in));
  while (static_cast<int64_t>(std::floor(static_cast<double>(in) * s)) < out)
    s = std::nextafter(s, 2 * s);
  return s;
}

// The rank-4 image input and which of its axes are height and width.
struct ImageInput {
  std::string name;
  Shape shape;
  int h_axis = 0, w_axis = 0;
};

Result<ImageInput> FindImageInput(const ir::Graph& g) {
  std::vector<std::string> inputs;
  for (const std::string& in : g.inputs)
    if (!g.IsInitializer(in)) inputs.push_back(in);
  if (inputs.size() != 1)
    return Status::InvalidArgument("the model has " + std::to_string(inputs.size()) +
                                   " inputs; --input-size re-declares a single image input");
  const ir::ValueType* t = g.TypeOf(inputs[0]);
  if (t == nullptr || !t->dims || t->dims->size() != 4)
    return Status::InvalidArgument("input '" + inputs[0] + "' is " +
                                   (t ? t->ToString() : std::string("untyped")) +
                                   ", not a 4-D image (NCHW or NHWC)");
  if (t->dtype != DataType::kFloat32)
    return Status::InvalidArgument("input '" + inputs[0] + "' is " + t->ToString() +
                                   ", not float32");
  if (!t->HasStaticShape())
    return Status::InvalidArgument("input '" + inputs[0] + "' is " + t->ToString() +
                                   ": its size is already free (run it with --size HxW)");
  ImageInput r{inputs[0], t->StaticShape()};
  const Shape& s = r.shape;
  // Channels are few (grey, RGB, RGBA), spatial lengths are not.
  if (s[3] <= 4 && s[1] > 4) {
    r.h_axis = 1, r.w_axis = 2;
  } else if (s[1] <= 4 && s[3] > 4) {
    r.h_axis = 2, r.w_axis = 3;
  } else {
    return Status::InvalidArgument("input '" + r.name + "' is " + t->ToString() +
                                   ": cannot tell whether it is NCHW or NHWC");
  }
  return r;
}

// One run on zeros at the new size: what no static rule sees (a Concat of maps that stride
// rounding made unequal, a Reshape to the old size) fails here, with the runtime's reason.
Status RunsAtNewSize(const ir::Model& model, const ImageInput& in, const Shape& shape,
                     int threads) {
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(model));
  SessionOptions options;
  options.num_threads = threads;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, options));
  Tensor zeros(DataType::kFloat32, shape);
  std::memset(zeros.data<float>(), 0, sizeof(float) * static_cast<size_t>(zeros.numel()));
  std::vector<Tensor> outputs;
  return session->Run({{in.name, std::move(zeros)}}, &outputs);
}

}  // namespace

Result<InputSize> ParseInputSize(const std::string& spec) {
  InputSize s;
  const size_t x = spec.find('x');
  auto number = [](const std::string& v, int64_t* out) {
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
      return false;
    *out = std::stoll(v);
    return *out > 0;
  };
  if (x == std::string::npos || !number(spec.substr(0, x), &s.height) ||
      !number(spec.substr(x + 1), &s.width))
    return Status::InvalidArgument("--input-size '" + spec +
                                   "': expected HxW with positive integers, e.g. 320x320");
  return s;
}

Result<InputResizeReport> ResizeInput(ir::Model& model, InputSize size, int threads) {
  SN_ASSIGN_OR_RETURN(ImageInput in, FindImageInput(model.graph));
  // The Resize inputs' lengths at the original size, to turn sizes into scales.
  ir::Graph typed = model.graph;
  ops::InferShapes(typed);

  ir::Model out = model;
  ir::Graph& g = out.graph;
  InputResizeReport report{in.name, in.shape, in.shape, 0};
  report.after[in.h_axis] = size.height;
  report.after[in.w_axis] = size.width;
  for (ir::Node& n : g.nodes) {
    // Resize-10 and Upsample take scales only; sizes came with Resize-11.
    if (n.op_type != "Resize" || g.Opset() < 11 || n.inputs.size() < 4 || n.inputs[3].empty())
      continue;
    const Tensor* sizes = ConstantValue(g, n.inputs[3]);
    if (sizes == nullptr) continue;  // computed from the input's shape: it follows by itself
    const ir::ValueType* xt = typed.TypeOf(n.inputs[0]);
    if (sizes->dtype() != DataType::kInt64 || xt == nullptr || !xt->HasStaticShape() ||
        xt->StaticShape().size() != static_cast<size_t>(sizes->numel()))
      return Status::InvalidArgument(n.Label() +
                                     " has constant sizes for an input of unknown shape: cannot "
                                     "tell what scales they stand for");
    const Shape x = xt->StaticShape();
    std::vector<float> scales(x.size());
    for (size_t d = 0; d < x.size(); ++d) {
      const int64_t target = sizes->data<int64_t>()[d];
      if (x[d] <= 0 || target <= 0)
        return Status::InvalidArgument(n.Label() + " resizes an empty axis");
      scales[d] = ScaleFor(target, x[d]);
    }
    const std::string name = UniqueName(g, n.outputs[0] + "_scales");
    g.initializers[name] = Tensor::FromVector(scales, {static_cast<int64_t>(scales.size())});
    g.value_types[name] =
        ir::ValueType::Static(DataType::kFloat32, {static_cast<int64_t>(x.size())});
    n.inputs[2] = name;
    n.inputs.resize(3);
    ++report.resizes;
  }

  // Every type below the input was worked out at the old size: keep the element types, let
  // inference give the dims again.
  for (auto& [name, type] : g.value_types)
    if (!g.IsInitializer(name)) type.dims.reset();
  g.value_types[in.name] = ir::ValueType::Static(DataType::kFloat32, report.after);
  ops::InferShapes(g);

  const Status runs = RunsAtNewSize(out, in, report.after, threads);
  if (!runs.ok()) {
    const std::string at = std::to_string(size.height) + "x" + std::to_string(size.width);
    const std::string own =
        std::to_string(in.shape[in.h_axis]) + "x" + std::to_string(in.shape[in.w_axis]);
    return Status::InvalidArgument("the model does not run at " + at + " (" + runs.message() +
                                   "): something in it is fixed to its own " + own +
                                   " (a constant of that shape, a Reshape), or its strides do "
                                   "not divide " +
                                   at);
  }
  model = std::move(out);
  return report;
}

}  // namespace supernova::compress
