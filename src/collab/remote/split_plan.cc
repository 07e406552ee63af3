#include "collab/remote/split_plan.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace supernova::collab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A string field that may be null or absent (head of cloud-only, tail of edge-only).
std::string OptionalString(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

Result<CutKind> ParseKind(const std::string& s) {
  if (s == "split") return CutKind::kSplit;
  if (s == "edge_only") return CutKind::kEdgeOnly;
  if (s == "cloud_only") return CutKind::kCloudOnly;
  return Status::InvalidArgument("unknown kind '" + s + "' (split, edge_only, cloud_only)");
}

PlanCandidate ReadCandidate(const json& j) {
  PlanCandidate c;
  c.id = j.at("id").get<int>();
  c.tensors = j.at("tensors").get<std::vector<std::string>>();
  c.head_outputs = j.value("head_outputs", c.tensors);
  c.edge_ms = j.at("edge_ms").get<double>();
  c.cloud_ms = j.at("cloud_ms").get<double>();
  c.bytes = j.value("bytes", size_t{0});
  c.sent_bytes = j.at("sent_bytes").get<size_t>();
  c.result_bytes = j.at("result_bytes").get<size_t>();
  c.transfer_ms = j.value("transfer_ms", 0.0);
  c.total_ms = j.value("total_ms", 0.0);
  c.energy_mj = j.value("energy_mj", 0.0);
  c.materialized = j.value("materialized", false);
  c.head = OptionalString(j, "head");
  c.tail_model = OptionalString(j, "tail_model");
  return c;
}

// What a materialized candidate must have on disk, by its kind.
Status CheckFiles(const SplitPlanFile& plan, const PlanCandidate& c) {
  const std::string what = fmt::format("candidate {} ({})", c.id, CutKindName(c.kind));
  const bool needs_head = c.kind != CutKind::kCloudOnly;
  const bool needs_tail = c.kind != CutKind::kEdgeOnly;
  if (needs_head != !c.head.empty())
    return Status::InvalidModel(what + (needs_head ? " names no head" : " must have no head"));
  if (needs_tail != !c.tail_model.empty())
    return Status::InvalidModel(what +
                                (needs_tail ? " names no tail_model" : " must have no tail_model"));
  std::error_code ec;
  if (needs_head && !fs::is_regular_file(plan.HeadPath(c), ec))
    return Status::NotFound(what + ": its head " + plan.HeadPath(c) + " is missing");
  if (needs_tail && !fs::is_regular_file(plan.TailPath(c), ec))
    return Status::NotFound(what + ": its tail " + plan.TailPath(c) + " is missing");
  return Status::Ok();
}

}  // namespace

const char* CutKindName(CutKind kind) {
  switch (kind) {
    case CutKind::kEdgeOnly:
      return "edge_only";
    case CutKind::kCloudOnly:
      return "cloud_only";
    case CutKind::kSplit:
      break;
  }
  return "split";
}

const PlanCandidate* SplitPlanFile::Find(int id) const {
  for (const PlanCandidate& c : candidates)
    if (c.id == id) return &c;
  return nullptr;
}

std::string SplitPlanFile::HeadPath(const PlanCandidate& c) const {
  return (fs::path(dir) / c.head).string();
}

std::string SplitPlanFile::TailPath(const PlanCandidate& c) const {
  return (fs::path(dir) / "repository" / c.tail_model / "1" / "model.onnx").string();
}

Result<SplitPlanFile> ReadSplitPlan(const std::string& dir) {
  const std::string path = (fs::path(dir) / "plan.json").string();
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::NotFound("split directory " + dir +
                            " has no plan.json (write one with `supernova split`)");
  std::stringstream text;
  text << in.rdbuf();
  const json j = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidModel(path + " is not a JSON object");

  SplitPlanFile plan;
  plan.dir = dir;
  try {
    plan.version = j.at("version").get<int>();
    if (plan.version != 1)
      return Status::Unimplemented(
          fmt::format("{}: version {}; this runner reads version 1", path, plan.version));
    plan.model = j.value("model", std::string());
    plan.name = j.value("name", std::string());
    plan.inputs = j.at("inputs").get<std::vector<std::string>>();
    plan.outputs = j.at("outputs").get<std::vector<std::string>>();
    plan.objective = j.value("objective", std::string("latency"));
    plan.codec = j.value("codec", std::string("none"));
    if (j.contains("link")) {
      const json& l = j.at("link");
      plan.link = Link{l.at("bandwidth_mbit").get<double>(), l.at("rtt_ms").get<double>(),
                       l.value("loss", 0.0)};
    }
    if (j.contains("edge")) plan.edge_slowdown = j.at("edge").value("slowdown", 1.0);
    plan.chosen = j.at("chosen").get<int>();
    for (const json& cj : j.at("candidates")) {
      PlanCandidate c = ReadCandidate(cj);
      auto kind = ParseKind(cj.at("kind").get<std::string>());
      if (!kind.ok()) return kind.status().WithContext(fmt::format("{}: candidate {}", path, c.id));
      c.kind = *kind;
      plan.candidates.push_back(std::move(c));
    }
  } catch (const json::exception& e) {
    // nlohmann's messages name the missing key or the wrong type.
    return Status::InvalidModel(path + ": " + e.what());
  }

  int edge_only = 0;
  for (const PlanCandidate& c : plan.candidates) {
    if (!c.materialized) continue;
    if (c.kind == CutKind::kEdgeOnly) ++edge_only;
    SN_RETURN_IF_ERROR(CheckFiles(plan, c).WithContext(path));
  }
  if (edge_only != 1)
    return Status::InvalidModel(
        path + ": needs exactly one materialized edge_only candidate (the local fallback)");
  const PlanCandidate* chosen = plan.Find(plan.chosen);
  if (chosen == nullptr || !chosen->materialized)
    return Status::InvalidModel(
        fmt::format("{}: chosen candidate {} is not a materialized candidate", path, plan.chosen));
  return plan;
}

}  // namespace supernova::collab
