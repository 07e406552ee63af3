#include "collab/split_dir.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

namespace supernova::collab {

namespace fs = std::filesystem;

namespace {

Status Export(const ir::Model& model, const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::InvalidArgument("cannot create " + path.parent_path().string());
  return ir::ExportOnnxFile(model, path.string());
}

Status WriteAll(const ir::Model& model, const SplitPlan& plan, const Profile& edge,
                const fs::path& root) {
  std::map<std::string, ir::ValueType> types;
  for (const auto& [name, t] : edge.tensors) types[name] = ir::ValueType::Static(t.dtype, t.shape);
  for (const Candidate& c : plan.candidates) {
    if (!c.materialized) continue;
    const bool chosen = c.id == plan.chosen;
    const ir::Model* head = nullptr;
    const ir::Model* tail = nullptr;
    SplitModels parts;
    if (c.kind == "edge_only") {
      head = &model;
    } else if (c.kind == "cloud_only") {
      tail = &model;
    } else {
      auto split = SplitModel(model, c.tensors, plan.codec, types);
      if (!split.ok()) return split.status().WithContext(fmt::format("cut {}", c.id));
      parts = std::move(split).value();
      head = &parts.head;
      tail = &parts.tail;
    }
    if (head) {
      SN_RETURN_IF_ERROR(Export(*head, root / *c.head));
      if (chosen) SN_RETURN_IF_ERROR(Export(*head, root / "head.onnx"));
    }
    if (tail) {
      SN_RETURN_IF_ERROR(Export(*tail, root / "repository" / *c.tail_model / "1" / "model.onnx"));
      if (chosen) SN_RETURN_IF_ERROR(Export(*tail, root / "tail.onnx"));
    }
  }
  std::ofstream out(root / "plan.json");
  out << PlanToJson(plan).dump(1) << "\n";
  out.close();
  if (!out) return Status::InvalidArgument("cannot write " + (root / "plan.json").string());
  return Status::Ok();
}

}  // namespace

Status WriteSplitDirectory(const ir::Model& model, const SplitPlan& plan, const Profile& edge,
                           const std::string& dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/": DIR.tmp beside it
  if (target.empty() || target == "." || target == "..")
    return Status::InvalidArgument(fmt::format("'{}' cannot be a split directory", dir));
  std::error_code ec;
  if (fs::exists(target, ec) &&
      (!fs::is_directory(target, ec) ||
       (!fs::is_empty(target, ec) && !fs::exists(target / "plan.json", ec))))
    return Status::InvalidArgument(
        fmt::format("'{}' exists and is not a split directory: not replacing it", dir));
  const fs::path tmp = target.string() + ".tmp";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec)
    return Status::InvalidArgument(
        fmt::format("cannot create '{}': {}", tmp.string(), ec.message()));
  Status s = WriteAll(model, plan, edge, tmp);
  if (s.ok()) {
    fs::remove_all(target, ec);
    fs::rename(tmp, target, ec);
    if (ec)
      s = Status::InvalidArgument(
          fmt::format("cannot rename '{}' to '{}': {}", tmp.string(), dir, ec.message()));
  }
  if (!s.ok()) fs::remove_all(tmp, ec);
  return s;
}

}  // namespace supernova::collab
