#include "collab/remote/split_fixture.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ops/shape_inference.h"
#include "optimizer/graph_builder.h"
#include "supernova/session.h"

namespace supernova::collab::testing {

namespace fs = std::filesystem;
using supernova::testing::GraphBuilder;
using supernova::testing::RandomTensor;

namespace {

// The network of split_fixture.h, with readable value names.
GraphBuilder Network() {
  GraphBuilder b;
  b.Input("x", {1, 8, 32, 32});
  auto conv = [&](const std::string& in, const std::string& out, int64_t cin, int64_t cout,
                  uint32_t seed) {
    const std::string w = b.Const(out + "_w", RandomTensor({cout, cin, 3, 3}, seed, -0.3f, 0.3f));
    const std::string bias = b.Const(out + "_b", RandomTensor({cout}, seed + 1, -0.1f, 0.1f));
    supernova::testing::SetInts(b.Node("Conv", {in, w, bias}, {out + "_conv"}), "pads",
                                {1, 1, 1, 1});
    b.Node("Relu", {out + "_conv"}, {out});
  };
  conv("x", "r0", 8, 32, 11);
  conv("r0", "r1", 32, 32, 15);
  ir::Node& pool = b.Node("MaxPool", {"r1"}, {"p1"});
  supernova::testing::SetInts(pool, "kernel_shape", {4, 4});
  supernova::testing::SetInts(pool, "strides", {4, 4});
  conv("p1", "r2", 32, 32, 21);
  b.Node("Add", {"r2", "p1"}, {"a"});
  conv("a", "r3", 32, 128, 31);
  conv("r3", "r4", 128, 128, 41);
  b.Node("GlobalAveragePool", {"r4"}, {"y"});
  b.Node("GlobalMaxPool", {"r4"}, {"m"});
  b.Output("y");
  b.Output("m");
  ops::InferShapes(b.model().graph);
  return b;
}

void Export(const ir::Model& m, const fs::path& path) {
  fs::create_directories(path.parent_path());
  Status s = ir::ExportOnnxFile(m, path.string());
  ASSERT_TRUE(s.ok()) << s.ToString();
}

// Median wall time of running `path` here on one thread.
double MedianMs(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& feeds,
                int runs) {
  if (runs <= 0) return 0;
  SessionOptions opts;
  opts.num_threads = 1;
  auto session = Session::Open(path, opts);
  EXPECT_TRUE(session.ok()) << session.status().ToString();
  if (!session.ok()) return 0;
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    std::vector<Tensor> out;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE((*session)->Run(feeds, &out).ok());
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

size_t Bytes(const ir::Graph& g, const std::vector<std::string>& values) {
  size_t n = 0;
  for (const std::string& v : values) {
    const ir::ValueType* t = g.TypeOf(v);
    EXPECT_TRUE(t && t->HasStaticShape()) << v << " has no static shape";
    if (!t || !t->HasStaticShape()) continue;
    int64_t numel = 1;
    for (int64_t d : t->StaticShape()) numel *= d;
    n += static_cast<size_t>(numel) * DataTypeSize(t->dtype);
  }
  return n;
}

}  // namespace

SplitDir::~SplitDir() {
  std::error_code ec;
  if (!dir.empty()) fs::remove_all(dir, ec);
}

ir::Model Extract(const ir::Model& model, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs) {
  const ir::Graph& g = model.graph;
  std::set<std::string> needed(outputs.begin(), outputs.end());
  const std::set<std::string> given(inputs.begin(), inputs.end());
  std::vector<bool> keep(g.nodes.size(), false);
  for (size_t k = g.nodes.size(); k-- > 0;) {
    const ir::Node& n = g.nodes[k];
    const bool used = std::any_of(n.outputs.begin(), n.outputs.end(), [&](const std::string& o) {
      return needed.count(o) && !given.count(o);
    });
    if (!used) continue;
    keep[k] = true;
    for (const std::string& in : n.inputs) needed.insert(in);
  }
  ir::Model part;
  part.graph.name = g.name;
  part.graph.opsets = g.opsets;
  part.graph.inputs = inputs;
  part.graph.outputs = outputs;
  for (size_t k = 0; k < g.nodes.size(); ++k)
    if (keep[k]) part.graph.nodes.push_back(g.nodes[k]);
  for (const std::string& v : needed) {
    if (g.IsInitializer(v) && !given.count(v)) part.graph.initializers[v] = g.initializers.at(v);
    if (const ir::ValueType* t = g.TypeOf(v)) part.graph.value_types[v] = *t;
  }
  return part;
}

std::vector<Tensor> RunFile(const std::string& path,
                            const std::vector<std::pair<std::string, Tensor>>& feeds) {
  SessionOptions opts;
  opts.num_threads = 1;
  auto session = Session::Open(path, opts);
  EXPECT_TRUE(session.ok()) << path << ": " << session.status().ToString();
  std::vector<Tensor> out;
  if (!session.ok()) return out;
  Status s = (*session)->Run(feeds, &out);
  EXPECT_TRUE(s.ok()) << path << ": " << s.ToString();
  return out;
}

::testing::AssertionResult BitEqual(const std::vector<Tensor>& want,
                                    const std::vector<Tensor>& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << got.size() << " outputs, " << want.size() << " wanted";
  for (size_t i = 0; i < want.size(); ++i)
    if (want[i].shape() != got[i].shape() || want[i].dtype() != got[i].dtype() ||
        std::memcmp(want[i].raw_data(), got[i].raw_data(), want[i].nbytes()) != 0)
      return ::testing::AssertionFailure() << "output " << i << " differs";
  return ::testing::AssertionSuccess();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

SplitDir NewSplitDir(ir::Model whole, std::vector<std::pair<std::string, Tensor>> feeds) {
  SplitDir d;
  std::string tmpl = (fs::temp_directory_path() / "supernova-split-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  d.dir = tmpl;
  d.whole = std::move(whole);
  d.feeds = std::move(feeds);
  return d;
}

void WriteSplitDir(SplitDir& d, const std::string& name, const std::vector<CutSpec>& cuts,
                   double edge_slowdown, int chosen, int timing_runs) {
  const fs::path root(d.dir);
  const std::vector<std::string>& model_inputs = d.whole.graph.inputs;
  const std::vector<std::string>& model_outputs = d.whole.graph.outputs;
  nlohmann::json candidates = nlohmann::json::array();
  const size_t result_bytes = Bytes(d.whole.graph, model_outputs);
  for (const CutSpec& c : cuts) {
    const std::string tail_name = name + "_cut" + std::to_string(c.id);
    const std::string head_rel = "cuts/" + std::to_string(c.id) + "/head.onnx";
    const bool edge_only = c.kind == "edge_only", cloud_only = c.kind == "cloud_only";
    double edge_ms = 0, cloud_ms = 0;
    std::vector<std::pair<std::string, Tensor>> tail_feeds = d.feeds;
    if (c.materialized && !cloud_only) {
      const std::string head = (root / head_rel).string();
      Export(Extract(d.whole, model_inputs, c.tensors), head);
      edge_ms = MedianMs(head, d.feeds, timing_runs) * edge_slowdown;
      // The tail's feeds, to time it: the cut tensors as the head computes them.
      std::vector<Tensor> cut_values;
      if (timing_runs > 0) cut_values = RunFile(head, d.feeds);
      tail_feeds.clear();
      for (size_t k = 0; k < c.tensors.size() && k < cut_values.size(); ++k)
        tail_feeds.emplace_back(c.tensors[k], cut_values[k]);
    }
    if (c.materialized && !edge_only) {
      const fs::path tail = root / "repository" / tail_name / "1" / "model.onnx";
      Export(Extract(d.whole, c.tensors, model_outputs), tail);
      cloud_ms = MedianMs(tail.string(), tail_feeds, timing_runs);
    }
    const size_t sent = edge_only ? 0 : Bytes(d.whole.graph, c.tensors);
    candidates.push_back(
        {{"id", c.id},
         {"kind", c.kind},
         {"tensors", c.tensors},
         {"head_outputs", c.tensors},
         {"edge_ms", edge_ms},
         {"cloud_ms", cloud_ms},
         {"bytes", sent},
         {"sent_bytes", sent},
         {"result_bytes", edge_only ? 0 : result_bytes},
         {"transfer_ms", 0},
         {"total_ms", 0},
         {"energy_mj", 0},
         {"materialized", c.materialized},
         {"head", cloud_only ? nlohmann::json() : nlohmann::json(head_rel)},
         {"tail_model", edge_only ? nlohmann::json() : nlohmann::json(tail_name)}});
  }
  const nlohmann::json plan = {
      {"version", 1},
      {"model", name + ".onnx"},
      {"name", name},
      {"inputs", model_inputs},
      {"outputs", model_outputs},
      {"objective", "latency"},
      {"link", {{"bandwidth_mbit", 100}, {"rtt_ms", 1}, {"loss", 0}}},
      {"codec", "none"},
      {"edge", {{"threads", 1}, {"slowdown", edge_slowdown}, {"total_ms", 0}}},
      {"cloud", {{"threads", 1}, {"slowdown", 1}, {"total_ms", 0}}},
      {"power", {{"edge_active_w", 0}, {"edge_idle_w", 0}, {"radio_w", 0}}},
      {"chosen", chosen},
      {"candidates", candidates}};
  WriteText((root / "plan.json").string(), plan.dump(2));
  Export(d.whole, root / "whole.onnx");
  d.expected = RunFile((root / "whole.onnx").string(), d.feeds);
}

SplitDir MakeSplitDir(double edge_slowdown, int chosen) {
  GraphBuilder b = Network();
  SplitDir d = NewSplitDir(b.model(), b.feeds());
  const std::vector<std::string> outputs = {"y", "m"};
  WriteSplitDir(d, "net",
                {{kEdgeOnly, "edge_only", outputs, true},
                 {kCloudOnly, "cloud_only", {"x"}, true},
                 {kCutP1, "split", {"p1"}, true},
                 {kCutResidual, "split", {"r2", "p1"}, true},
                 {kCutR1, "split", {"r1"}, false}},
                edge_slowdown, chosen, /*timing_runs=*/7);
  return d;
}

std::vector<std::string> FrontierCut(const ir::Graph& g, size_t k) {
  std::set<std::string> made(g.inputs.begin(), g.inputs.end());
  for (size_t i = 0; i < k && i < g.nodes.size(); ++i)
    made.insert(g.nodes[i].outputs.begin(), g.nodes[i].outputs.end());
  std::vector<std::string> cut;
  auto add = [&](const std::string& v) {
    if (made.count(v) && !g.IsInitializer(v) && std::find(cut.begin(), cut.end(), v) == cut.end())
      cut.push_back(v);
  };
  for (size_t i = k; i < g.nodes.size(); ++i)
    for (const std::string& in : g.nodes[i].inputs) add(in);
  for (const std::string& out : g.outputs) add(out);
  return cut;
}

}  // namespace supernova::collab::testing
