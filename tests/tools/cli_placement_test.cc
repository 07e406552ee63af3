// `supernova info --providers P,cpu MODEL` on the real models: the report is parsed and
// checked against the graph and the providers themselves, independently of the partitioner:
// every node listed once, each on a provider that supports it or on the cpu with every
// earlier provider's own reason, the seam count recomputed from the listed placement, and the
// pieces forming an acyclic graph (so they can run one after another).
#include <gtest/gtest.h>

#include "tools/cli_util.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "ir/onnx_import.h"
#include "optimizer/optimizer.h"
#include "providers/provider.h"
#include "runtime/placement.h"
#include "runtime/provider_registry.h"
#include "test_models.h"

namespace fs = std::filesystem;

namespace supernova {
namespace {

std::string Cli(const std::string& args, int* rc) {
  testing::CliOutput o = testing::Cli(args);
  *rc = o.code;
  return o.text;
}

struct RealModel {
  std::string key, path;
  testing::ModelRoot root;
};

void PrintTo(const RealModel& m, std::ostream* os) { *os << m.key; }

std::vector<RealModel> RealModels() {
  const std::string a = SUPERNOVA_ASSETS_DIR, s = SUPERNOVA_SHARED_MODELS_DIR;
  using testing::ModelRoot;
  return {{"det", a + "/ocr/ch_PP-OCRv4_det_infer.onnx", ModelRoot::kAssets},
          {"rec", a + "/ocr/ch_PP-OCRv4_rec_infer.onnx", ModelRoot::kAssets},
          {"cls", a + "/ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", ModelRoot::kAssets},
          {"blazeface", a + "/blazeface/face_detection_front_128x128_barracuda.onnx",
           ModelRoot::kAssets},
          {"centernet", s + "/centernet_mbv3_coco_512.onnx", ModelRoot::kShared},
          {"face_embedding", s + "/face_recognition_resnet29_128d.onnx", ModelRoot::kShared}};
}

struct Report {
  int nodes = 0, pieces = 0, seams = 0, copies = 0;
  std::map<std::string, int> per_provider;
  struct Line {
    std::string label, provider, reason;
    int piece = -1;
  };
  std::vector<Line> lines;
};

Report Parse(const std::string& text, const std::vector<std::string>& providers) {
  Report r;
  std::istringstream in(text);
  std::string line;
  const std::regex head(R"(^placement  (\d+) nodes: (.*); (\d+) pieces, (\d+) seams, (\d+) .*)");
  bool in_nodes = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, head)) {
      r.nodes = std::stoi(m[1]);
      r.pieces = std::stoi(m[3]);
      r.seams = std::stoi(m[4]);
      r.copies = std::stoi(m[5]);
      std::istringstream counts(m[2].str());
      std::string item;
      while (std::getline(counts, item, ',')) {
        std::istringstream kv(item);
        std::string name;
        int n = 0;
        kv >> name >> n;
        r.per_provider[name] = n;
      }
      in_nodes = true;
      continue;
    }
    if (!in_nodes || line.rfind("  piece #", 0) == 0 || line.size() < 3) continue;
    // "  <label>  <provider>[ #k]  [reason]": the label is "Op 'name'".
    const size_t q = line.rfind("'  ");
    if (q == std::string::npos) continue;
    Report::Line l;
    l.label = line.substr(2, q - 1);
    std::string rest = line.substr(q + 1);
    size_t i = rest.find_first_not_of(' ');
    size_t j = rest.find(' ', i);
    l.provider = rest.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (j != std::string::npos) {
      rest = rest.substr(j);
      i = rest.find_first_not_of(' ');
      if (i != std::string::npos && rest[i] == '#') {
        j = rest.find(' ', i);
        l.piece = std::stoi(rest.substr(i + 1, j - i - 1));
        rest = j == std::string::npos ? "" : rest.substr(j);
        i = rest.find_first_not_of(' ');
      }
      if (i != std::string::npos) l.reason = rest.substr(i);
    }
    EXPECT_TRUE(l.provider == "cpu" ||
                std::find(providers.begin(), providers.end(), l.provider) != providers.end())
        << line;
    r.lines.push_back(l);
  }
  return r;
}

// The graph as `info --providers` plans it: optimized (portable passes) and prepared.
ir::Graph PlannedGraph(const std::string& model) {
  auto m = ir::ImportOnnxFile(model);
  EXPECT_TRUE(m.ok());
  ir::Graph g = std::move(m->graph);
  EXPECT_TRUE(
      optimizer::Optimize(g, OptimizationLevel::kAll, nullptr, optimizer::PassSet::kPortable).ok());
  EXPECT_TRUE(runtime::PrepareForPlacement(g).ok());
  return g;
}

void CheckReport(const std::string& model, const std::string& provider) {
  int rc = 0;
  const std::string out = Cli("info --providers " + provider + ",cpu " + model, &rc);
  ASSERT_EQ(rc, 0) << out;
  Report r = Parse(out, {provider});
  ir::Graph g = PlannedGraph(model);
  ASSERT_EQ(r.lines.size(), g.nodes.size()) << out;
  ASSERT_EQ(r.nodes, static_cast<int>(g.nodes.size()));
  EXPECT_EQ(r.per_provider[provider] + r.per_provider["cpu"], r.nodes);

  auto ep = runtime::CreateProvider(provider, {});
  ASSERT_TRUE(ep.ok());
  std::map<std::string, std::string> where;  // value -> provider that makes it
  std::vector<int> unit(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& l = r.lines[i];
    ASSERT_EQ(l.label, g.nodes[i].Label());
    const providers::Support s = (*ep)->Supports(g, g.nodes[i]);
    if (l.provider == provider) {
      EXPECT_TRUE(s.ok) << l.label << " placed on " << provider << " which says: " << s.reason;
      EXPECT_GE(l.piece, 0);
      EXPECT_LT(l.piece, r.pieces);
      unit[i] = l.piece;
    } else {
      EXPECT_EQ(l.provider, "cpu");
      // Either the provider declined it, or it went back for costing copies and nothing more.
      if (!s.ok) {
        EXPECT_EQ(l.reason, provider + ": " + s.reason) << l.label;
      } else {
        EXPECT_NE(l.reason.find("data movement only"), std::string::npos) << l.label;
      }
      unit[i] = r.pieces + static_cast<int>(i);
    }
    for (const auto& o : g.nodes[i].outputs) where[o] = l.provider;
  }
  // Seams recomputed: (value, reading provider) pairs with a different maker.
  std::set<std::pair<std::string, std::string>> seams;
  std::map<std::string, int> maker_unit;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (const auto& o : g.nodes[i].outputs) maker_unit[o] = unit[i];
  std::map<int, std::set<int>> succ;
  std::map<int, int> indegree;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    indegree.emplace(unit[i], 0);
    for (const auto& v : g.nodes[i].inputs) {
      auto w = where.find(v);
      if (w == where.end()) continue;
      if (w->second != r.lines[i].provider) seams.insert({v, r.lines[i].provider});
      const int a = maker_unit[v], b = unit[i];
      if (a != b && succ[a].insert(b).second) ++indegree[b];
    }
  }
  EXPECT_EQ(r.seams, static_cast<int>(seams.size()));
  // The units (pieces and cpu nodes) must form a DAG: Kahn's algorithm visits all of them.
  std::vector<int> ready;
  for (const auto& [u, d] : indegree)
    if (d == 0) ready.push_back(u);
  size_t visited = 0;
  while (!ready.empty()) {
    int u = ready.back();
    ready.pop_back();
    ++visited;
    for (int v : succ[u])
      if (--indegree[v] == 0) ready.push_back(v);
  }
  EXPECT_EQ(visited, indegree.size()) << "the pieces form a cycle";
  std::printf("[placement] %s on %s: %d nodes, %s %d, cpu %d, %d pieces, %d seams, %d copies\n",
              fs::path(model).filename().c_str(), provider.c_str(), r.nodes, provider.c_str(),
              r.per_provider[provider], r.per_provider["cpu"], r.pieces, r.seams, r.copies);
}

bool Built(const std::string& provider) {
  const auto names = runtime::ProviderNames();
  return std::find(names.begin(), names.end(), provider) != names.end();
}

class InfoProviders : public ::testing::TestWithParam<RealModel> {
 protected:
  void SetUp() override { SUPERNOVA_REQUIRE_MODEL(GetParam().path, GetParam().root); }
};

TEST_P(InfoProviders, CudaPlacement) {
  if (!Built("cuda")) GTEST_SKIP() << "cuda provider not built";
  CheckReport(GetParam().path, "cuda");
}

TEST_P(InfoProviders, OpenCvPlacement) {
  if (!Built("opencv")) GTEST_SKIP() << "opencv provider not built";
  CheckReport(GetParam().path, "opencv");
}

INSTANTIATE_TEST_SUITE_P(Models, InfoProviders, ::testing::ValuesIn(RealModels()),
                         [](const auto& param_info) { return param_info.param.key; });

// Facts of this model: every float convolution goes to the GPU; its Resize nodes (not a cuda
// op) fall back.
TEST(InfoProvidersFacts, CenterNetConvolutionsOnCudaResizeOnCpu) {
  if (!Built("cuda")) GTEST_SKIP() << "cuda provider not built";
  const RealModel centernet = RealModels()[4];
  SUPERNOVA_REQUIRE_MODEL(centernet.path, centernet.root);
  int rc = 0;
  Report r = Parse(Cli("info --providers cuda,cpu " + centernet.path, &rc), {"cuda"});
  ASSERT_EQ(rc, 0);
  int resize = 0;
  for (const auto& l : r.lines) {
    if (l.label.rfind("Conv ", 0) == 0) {
      EXPECT_EQ(l.provider, "cuda") << l.label;
    }
    if (l.label.rfind("Resize ", 0) == 0) {
      ++resize;
      EXPECT_EQ(l.provider, "cpu");
      EXPECT_EQ(l.reason, "cuda: op Resize");
    }
  }
  EXPECT_EQ(resize, 3);  // the Resize nodes of the model file (protoc --decode, by op_type)
  EXPECT_GT(r.copies, 0);
}

// A provider without a plugin here is noted; the plan goes on with the providers after it.
TEST(InfoProvidersErrors, ProviderWithoutAPluginIsNoted) {
  const RealModel cls = RealModels()[2];
  SUPERNOVA_REQUIRE_MODEL(cls.path, cls.root);
  int rc = -1;
  const std::string out = Cli("info --providers npu9,cpu " + cls.path, &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("note: provider npu9 unavailable: no plugin "), std::string::npos) << out;
  EXPECT_NE(out.find("providers  cpu\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace supernova
