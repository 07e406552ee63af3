#include "supernova/output_file.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace supernova::tools {

namespace fs = std::filesystem;

Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  const fs::path target = fs::absolute(path);
  const fs::path tmp = target.parent_path() /
                       ("." + target.filename().string() + "." + std::to_string(getpid()) + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::InvalidArgument("cannot write " + path);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Status::Internal("failed to write " + path + " (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::Internal("cannot move the new file into " + path);
  }
  return Status::Ok();
}

bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

}  // namespace supernova::tools
