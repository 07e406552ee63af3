#include "stream/squares.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "ir/graph.h"
#include "ir/onnx_import.h"

namespace supernova::testing {

using Clock = std::chrono::steady_clock;

stream::Box SquaresScene::Truth(size_t i, int64_t index) const {
  const Square& s = squares[i];
  float cx = s.x0 + s.vx * static_cast<float>(index);
  float cy = s.y0 + s.vy * static_cast<float>(index);
  if (s.period > 0) {
    const float phase = 2 * 3.14159265f * static_cast<float>(index) / s.period;
    cx += s.ax * std::sin(phase);
    cy += s.ay * std::cos(phase);
  }
  const float half = static_cast<float>(side) / 2;
  return {cx - half, cy - half, cx + half, cy + half};
}

stream::FramePtr SquaresScene::Draw(int64_t index, Clock::time_point captured) const {
  auto f = std::make_shared<stream::Frame>();
  f->width = width;
  f->height = height;
  f->index = index;
  f->captured = captured;
  f->bgr.assign(static_cast<size_t>(width) * height * 3, 0);
  for (size_t i = 0; i < squares.size(); ++i) {
    const stream::Box b = Truth(i, index);
    const int x1 = std::max(0, static_cast<int>(b.x1)),
              x2 = std::min(width, static_cast<int>(b.x2));
    const int y1 = std::max(0, static_cast<int>(b.y1)),
              y2 = std::min(height, static_cast<int>(b.y2));
    // A hollow square's rows between its top and bottom edges light its side edges only.
    const int edge = side / 4;
    const int hy1 = static_cast<int>(b.y1) + edge, hy2 = static_cast<int>(b.y2) - edge;
    const int hx1 = static_cast<int>(b.x1) + edge, hx2 = static_cast<int>(b.x2) - edge;
    auto fill = [&](int y, int from, int to) {
      from = std::max(from, x1);
      to = std::min(to, x2);
      if (to > from)
        std::fill_n(&f->bgr[(static_cast<size_t>(y) * width + from) * 3], (to - from) * 3,
                    uint8_t{255});
    };
    for (int y = y1; y < y2; ++y) {
      if (squares[i].hollow && y >= hy1 && y < hy2) {
        fill(y, x1, hx1);
        fill(y, hx2, x2);
      } else {
        fill(y, x1, x2);
      }
    }
  }
  return f;
}

SquaresSource::SquaresSource(SquaresScene scene, int frames, double fps, bool live)
    : scene_(std::move(scene)), frames_(frames), fps_(fps), live_(live), start_(Clock::now()) {}

Result<stream::FramePtr> SquaresSource::Read() {
  if (closed_) return Status::Unavailable("source closed");
  if (next_ >= frames_) return Status::OutOfRange("end of the scene");
  auto due = start_ + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(next_ / fps_));
  if (live_) std::this_thread::sleep_until(due);
  if (!live_) due = Clock::now();
  return scene_.Draw(next_++, due);
}

namespace {

void AddInitializer(ir::Graph& g, const std::string& name, Tensor t) {
  g.value_types[name] = ir::ValueType::Static(t.dtype(), t.shape());
  g.initializers[name] = std::move(t);
}

ir::Attribute Ints(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}

ir::Attribute Int(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}

// A node named after its one output.
void AddNode(ir::Graph& g, std::string op, std::vector<std::string> in, std::string out,
             std::map<std::string, ir::Attribute> attrs) {
  ir::Node n;
  n.name = out;
  n.op_type = std::move(op);
  n.inputs = std::move(in);
  n.outputs = {std::move(out)};
  n.attributes = std::move(attrs);
  g.nodes.push_back(std::move(n));
}

// A model with one input, `input`: float32 [N, 3, height, width].
ir::Model ImageModel(const std::string& name, const std::string& input, int height, int width) {
  ir::Model m;
  m.graph.name = name;
  m.graph.opsets[""] = 13;
  m.graph.inputs.push_back(input);
  ir::ValueType io;
  io.dtype = DataType::kFloat32;
  io.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(3), ir::Dim::Known(height),
                                 ir::Dim::Known(width)};
  m.graph.value_types[input] = io;
  return m;
}

}  // namespace

Status WriteSquaresModel(const std::string& path, int width, int height, int side, int depth) {
  ir::Model m = ImageModel("squares", "images", height, width);
  ir::Graph& g = m.graph;
  auto node = [&](std::string op, std::vector<std::string> in, std::string out,
                  std::map<std::string, ir::Attribute> attrs = {}) {
    AddNode(g, std::move(op), std::move(in), std::move(out), std::move(attrs));
  };
  std::string x = "images";
  if (depth > 0) {
    const int64_t k = 1024;
    if ((3LL * width * height) % k != 0)
      return Status::InvalidArgument("the slow part needs 3 * width * height divisible by 1024");
    Tensor eye(DataType::kFloat32, {k, k});
    std::fill_n(eye.data<float>(), eye.numel(), 0.0f);
    for (int64_t i = 0; i < k; ++i) eye.data<float>()[i * k + i] = 1.0f;
    AddInitializer(g, "eye", eye);
    AddInitializer(g, "rows_shape", Tensor::FromVector<int64_t>({-1, k}, {2}));
    AddInitializer(g, "image_shape", Tensor::FromVector<int64_t>({-1, 3, height, width}, {4}));
    node("Reshape", {x, "rows_shape"}, "rows");
    x = "rows";
    for (int i = 0; i < depth; ++i) {
      node("MatMul", {x, "eye"}, "slow_" + std::to_string(i));
      x = "slow_" + std::to_string(i);
    }
    node("Reshape", {x, "image_shape"}, "images_again");
    x = "images_again";
  }
  node("ReduceMean", {x}, "grey", {{"axes", Ints({1})}, {"keepdims", Int(1)}});
  const int64_t half = side / 2;
  node("AveragePool", {"grey"}, "heatmap",
       {{"kernel_shape", Ints({side, side})},
        {"strides", Ints({4, 4})},
        {"pads", Ints({half, half, half - 4, half - 4})},
        {"count_include_pad", Int(1)}});
  Tensor w(DataType::kFloat32, {4, 1, 1, 1});
  std::fill_n(w.data<float>(), 4, 0.0f);
  AddInitializer(g, "extent_w", w);
  AddInitializer(g, "extent_b",
                 Tensor::FromVector<float>(std::vector<float>(4, static_cast<float>(half)), {4}));
  node("Conv", {"heatmap", "extent_w", "extent_b"}, "extents");
  auto out_type = [&](int64_t channels) {
    ir::ValueType t;
    t.dtype = DataType::kFloat32;
    t.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(channels),
                                  ir::Dim::Known(height / 4), ir::Dim::Known(width / 4)};
    return t;
  };
  g.value_types["heatmap"] = out_type(1);
  g.value_types["extents"] = out_type(4);
  g.outputs = {"heatmap", "extents"};
  return ir::ExportOnnxFile(m, path);
}

Status WriteCellsEmbeddingModel(const std::string& path, int size) {
  if (size < 4 || size % 4 != 0)
    return Status::InvalidArgument("the cells model needs a size that is a multiple of 4");
  ir::Model m = ImageModel("cells", "crops", size, size);
  ir::Graph& g = m.graph;
  const int64_t cell = size / 4;
  AddNode(g, "ReduceMean", {"crops"}, "grey", {{"axes", Ints({1})}, {"keepdims", Int(1)}});
  AddNode(g, "AveragePool", {"grey"}, "grid",
          {{"kernel_shape", Ints({cell, cell})}, {"strides", Ints({cell, cell})}});
  AddNode(g, "Flatten", {"grid"}, "cells", {{"axis", Int(1)}});
  ir::ValueType out;
  out.dtype = DataType::kFloat32;
  out.dims = std::vector<ir::Dim>{ir::Dim::Symbol("N"), ir::Dim::Known(16)};
  g.value_types["cells"] = out;
  g.outputs = {"cells"};
  return ir::ExportOnnxFile(m, path);
}

}  // namespace supernova::testing
