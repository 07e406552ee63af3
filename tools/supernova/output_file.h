// Writing a command's output file (a compressed or an exported model): whole or not at all,
// and never over the file the command read.
#pragma once

#include <string>

#include "supernova/status.h"

namespace supernova::tools {

// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so that
// `path` is either the old file or the whole new one.
Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// `a` and `b` name the same file (or would, once `b` is written).
bool SameFile(const std::string& a, const std::string& b);

}  // namespace supernova::tools
