#include "server/model_repository.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace supernova::server {
namespace {

bool ParseVersion(const std::string& s, int64_t* v) {
  if (s.empty() || s[0] == '0') return false;  // "0" and leading zeros are not versions
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size() && *v > 0;
}

std::string Stamp(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec) return "-";
  const auto time = fs::last_write_time(p, ec);
  return std::to_string(size) + "@" + std::to_string(time.time_since_epoch().count());
}

}  // namespace

bool ValidModelName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos && name[0] != '.';
}

bool ValidFileName(const std::string& name) { return ValidModelName(name); }

Status CheckInsideRepository(const std::string& repository, const std::string& path,
                             const std::string& what) {
  std::error_code ec;
  const fs::path root = fs::canonical(repository, ec);
  if (ec) return Status::NotFound("cannot resolve the model repository: " + ec.message());
  const fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) return Status::InvalidModel(what + " cannot be resolved: " + ec.message());
  auto [r, p] = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
  if (r != root.end())
    return Status::InvalidModel(what + " leads outside the model repository (a symlink or '..')");
  return Status::Ok();
}

Result<std::vector<std::string>> ListModels(const std::string& repository) {
  std::error_code ec;
  fs::directory_iterator it(repository, ec);
  if (ec)
    return Status::NotFound("cannot read the model repository '" + repository +
                            "': " + ec.message());
  std::vector<std::string> names;
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    if (ValidModelName(name) && e.is_directory(ec)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<ModelSource> ReadModelSource(const std::string& repository, const std::string& name) {
  if (!ValidModelName(name)) return Status::InvalidArgument("invalid model name '" + name + "'");
  ModelSource src;
  src.name = name;
  src.dir = (fs::path(repository) / name).string();
  std::error_code ec;
  if (!fs::is_directory(src.dir, ec))
    return Status::NotFound("no model '" + name + "' in the repository");
  SN_RETURN_IF_ERROR(CheckInsideRepository(repository, src.dir, "the model directory"));
  const fs::path config = fs::path(src.dir) / "config.pbtxt";
  if (fs::is_regular_file(config, ec)) {
    std::ifstream in(config, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) return Status::NotFound("cannot read " + config.string());
    src.has_config = true;
    src.config_text = text.str();
  }
  src.fingerprint = "config:" + Stamp(config);
  for (const fs::directory_entry& e : fs::directory_iterator(src.dir, ec)) {
    int64_t v = 0;
    if (e.is_directory(ec) && ParseVersion(e.path().filename().string(), &v)) {
      src.versions.push_back(v);
    }
  }
  std::sort(src.versions.begin(), src.versions.end());
  for (int64_t v : src.versions) {
    src.fingerprint += " " + std::to_string(v) + ":";
    for (const fs::directory_entry& e :
         fs::directory_iterator(fs::path(src.dir) / std::to_string(v), ec))
      src.fingerprint += e.path().filename().string() + "=" + Stamp(e.path()) + ",";
  }
  return src;
}

std::vector<int64_t> SelectVersions(const inference::ModelConfig& config,
                                    const std::vector<int64_t>& available) {
  const auto& policy = config.version_policy();
  if (policy.has_all()) return available;
  if (policy.has_specific()) {
    std::vector<int64_t> out;
    for (int64_t v : available)
      if (std::find(policy.specific().versions().begin(), policy.specific().versions().end(), v) !=
          policy.specific().versions().end())
        out.push_back(v);
    return out;
  }
  const size_t n = policy.has_latest() ? std::max<uint32_t>(1, policy.latest().num_versions()) : 1;
  const size_t keep = std::min(n, available.size());
  return std::vector<int64_t>(available.end() - static_cast<std::ptrdiff_t>(keep), available.end());
}

std::string ModelFile(const ModelSource& source, const inference::ModelConfig& config,
                      int64_t version) {
  const std::string file =
      config.default_model_filename().empty() ? "model.onnx" : config.default_model_filename();
  return (fs::path(source.dir) / std::to_string(version) / file).string();
}

}  // namespace supernova::server
