#include "supernova/bench_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>

#include "runtime/tensor_info.h"

namespace supernova::tools::bench {

std::string DimsToString(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += "x";
    s += dims[i] >= 0 ? std::to_string(dims[i]) : "N";
  }
  return s;
}

std::vector<TensorInfo> DeclaredInputs(const ir::Graph& graph) {
  std::vector<TensorInfo> infos;
  for (const std::string& name : graph.inputs) {
    if (graph.IsInitializer(name)) continue;
    infos.push_back(runtime::DescribeValue(graph, name));
  }
  return infos;
}

Result<std::map<std::string, std::vector<int64_t>>> ParseShapeFlags(
    const std::vector<std::string>& specs) {
  std::map<std::string, std::vector<int64_t>> given;
  for (const std::string& spec : specs) {
    SN_ASSIGN_OR_RETURN(auto parsed, ParseShapeFlag(spec));
    if (!given.emplace(parsed.first, parsed.second).second)
      return Status::InvalidArgument("--shape given twice for input '" + parsed.first + "'");
  }
  return given;
}

Result<Precision> ParsePrecision(const std::string& name) {
  if (name == "model") return Precision::kModel;
  if (name == "fp32") return Precision::kFloat32;
  if (name == "bf16") return Precision::kBFloat16;
  return Status::InvalidArgument("unknown --precision '" + name + "' (model, fp32, bf16)");
}

Result<std::pair<std::string, std::vector<int64_t>>> ParseShapeFlag(const std::string& spec) {
  const size_t eq = spec.find('=');
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--shape " + spec + ": " + why +
                                   " (expected NAME=d0xd1x..., e.g. x=Nx3x48x320)");
  };
  if (eq == std::string::npos || eq == 0) return bad("no input name");
  std::string name = spec.substr(0, eq);
  std::vector<int64_t> dims;
  const std::string text = spec.substr(eq + 1);
  if (text.empty()) return bad("no dims");
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('x', start);
    if (end == std::string::npos) end = text.size();
    const std::string d = text.substr(start, end - start);
    if (d == "N" || d == "B") {
      dims.push_back(-1);
    } else {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
      if (d.empty() || ec != std::errc() || ptr != d.data() + d.size() || v <= 0)
        return bad("'" + d + "' is not a positive dim");
      dims.push_back(v);
    }
    start = end + 1;
  }
  return std::make_pair(std::move(name), std::move(dims));
}

Result<std::vector<Shape>> ResolveInputShapes(
    const std::vector<TensorInfo>& inputs, int64_t batch,
    const std::map<std::string, std::vector<int64_t>>& given) {
  if (batch <= 0) return Status::InvalidArgument("--batch must be positive");
  std::set<std::string> names;
  for (const TensorInfo& in : inputs) names.insert(in.name);
  for (const auto& [name, dims] : given)
    if (!names.count(name)) {
      std::string list;
      for (const TensorInfo& in : inputs) list += (list.empty() ? "" : ", ") + in.ToString();
      return Status::InvalidArgument("--shape " + name + "=" + DimsToString(dims) +
                                     ": the model has no input named '" + name +
                                     "' (inputs: " + list + ")");
    }

  std::vector<Shape> shapes;
  for (const TensorInfo& in : inputs) {
    auto it = given.find(in.name);
    const std::vector<int64_t>* user = it == given.end() ? nullptr : &it->second;
    if (!in.rank_known && !user)
      return Status::InvalidArgument("model input " + in.ToString() +
                                     " has unknown rank: give --shape " + in.name + "=d0xd1x...");
    const size_t rank = in.rank_known ? in.dims.size() : user->size();
    if (user && user->size() != rank)
      return Status::InvalidArgument("--shape " + in.name + "=" + DimsToString(*user) + " has " +
                                     std::to_string(user->size()) + " dims, model input " +
                                     in.ToString() + " has " + std::to_string(rank));
    if (in.rank_known && rank > 0 && in.dims[0] >= 0 && in.dims[0] != batch)
      return Status::FailedPrecondition("model input " + in.name + " has fixed batch " +
                                        std::to_string(in.dims[0]));
    Shape shape(rank, -1);
    std::vector<std::string> unknown;
    for (size_t i = 0; i < rank; ++i) {
      const int64_t declared = in.rank_known ? in.dims[i] : -1;
      int64_t wanted = user ? (*user)[i] : -1;
      if (wanted < 0 && user) wanted = batch;  // N in --shape
      if (i == 0 && wanted >= 0 && wanted != batch)
        return Status::InvalidArgument("--shape " + in.name + "=" + DimsToString(*user) +
                                       ": first dim " + std::to_string(wanted) +
                                       " differs from --batch " + std::to_string(batch) +
                                       " (write N for the batch)");
      if (declared >= 0 && wanted >= 0 && declared != wanted)
        return Status::InvalidArgument("--shape " + in.name + "=" + DimsToString(*user) + ": dim " +
                                       std::to_string(i) + " is " + std::to_string(wanted) +
                                       " but model input " + in.ToString() + " fixes it at " +
                                       std::to_string(declared));
      if (declared >= 0)
        shape[i] = declared;
      else if (wanted >= 0)
        shape[i] = wanted;
      else if (i == 0)
        shape[i] = batch;
      else
        unknown.push_back(in.symbols.size() > i && !in.symbols[i].empty()
                              ? std::to_string(i) + " (" + in.symbols[i] + ")"
                              : std::to_string(i));
    }
    if (!unknown.empty()) {
      std::string list, example;
      for (const std::string& u : unknown) list += (list.empty() ? "" : ", ") + u;
      for (size_t i = 0; i < rank; ++i)
        example += (i ? "x" : "") + (i == 0          ? std::string("N")
                                     : shape[i] >= 0 ? std::to_string(shape[i])
                                                     : std::string("?"));
      return Status::InvalidArgument("model input " + in.ToString() + " has unknown dim" +
                                     (unknown.size() > 1 ? "s " : " ") + list + ": give --shape " +
                                     in.name + "=" + example);
    }
    shapes.push_back(std::move(shape));
  }
  return shapes;
}

Result<Tensor> RandomInput(DataType dtype, const Shape& shape, std::mt19937& rng) {
  if (DataTypeSize(dtype) == 0)
    return Status::Unimplemented("cannot make a random " + DataTypeName(dtype) + " input");
  Tensor t(dtype, shape);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t n = t.numel();
  switch (dtype) {
    case DataType::kFloat32:
      for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = unit(rng);
      break;
    case DataType::kFloat64:
      for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = unit(rng);
      break;
    case DataType::kFloat16:
      for (int64_t i = 0; i < n; ++i) t.data<Float16>()[i] = Float16::FromFloat(unit(rng));
      break;
    case DataType::kBFloat16:
      for (int64_t i = 0; i < n; ++i) t.data<BFloat16>()[i] = BFloat16::FromFloat(unit(rng));
      break;
    default:
      if (t.nbytes()) std::memset(t.raw_data(), 0, t.nbytes());
  }
  return t;
}

LatencyStats Summarize(std::vector<double> t) {
  LatencyStats s;
  if (t.empty()) return s;
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  s.median_ms = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
  s.p90_ms = t[std::clamp<size_t>(rank, 1, n) - 1];
  s.mean_ms = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(n);
  s.min_ms = t.front();
  s.max_ms = t.back();
  return s;
}

double PeakRssMb() {
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    std::fclose(f);
    if (kib >= 0) return static_cast<double>(kib) / 1024.0;
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

namespace {
// Each constant tensor the model stores: initializers, then the values of Constant nodes.
void ForEachWeight(const ir::Graph& graph, const std::function<void(const Tensor&)>& fn) {
  for (const auto& [name, t] : graph.initializers) fn(t);
  for (const ir::Node& n : graph.nodes)
    if (n.op_type == "Constant" && (n.domain.empty() || n.domain == "ai.onnx"))
      if (const ir::Attribute* a = n.FindAttr("value");
          a && a->kind == ir::Attribute::Kind::kTensor)
        fn(a->t);
}
}  // namespace

size_t ModelWeightBytes(const ir::Graph& graph) {
  size_t bytes = 0;
  ForEachWeight(graph, [&](const Tensor& t) { bytes += t.nbytes(); });
  return bytes;
}

int64_t ModelParameterCount(const ir::Graph& graph) {
  int64_t n = 0;
  ForEachWeight(graph, [&](const Tensor& t) { n += t.numel(); });
  return n;
}

}  // namespace supernova::tools::bench
