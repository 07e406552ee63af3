// `supernova stream`'s on-device learning flags (docs/stream.md, "Learned labels"):
// --learn-model and --learn-store name the tracks with a class store's classes. Apart from
// cmd_stream.cc so that the stream's own flags and learning's grow without touching each other.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "supernova/status.h"
#include "supernova/stream_learn.h"

namespace supernova::tools {

struct LearnFlags {
  LearnLabellerOptions options;  // the flags fill it; its defaults are the flags'
  std::string method = learn::MethodName(learn::kDefaultMethod);
  std::vector<std::string> classes;  // detector class names (or ids) to look at
};

void AddLearnFlags(CLI::App* cmd, LearnFlags* flags);

// The labeller the flags describe; null without --learn-model. `labels` are the detector's
// class names (--labels), by which --learn-classes names classes; `session` is the detector's
// (providers and threads).
Result<std::unique_ptr<LearnLabeller>> OpenLearn(const LearnFlags& flags,
                                                 const std::vector<std::string>& labels,
                                                 const SessionOptions& session);

// --learn-classes' names as detector class ids: a name from `labels`, "class_N" or N.
Result<std::vector<int>> ResolveClasses(const std::vector<std::string>& names,
                                        const std::vector<std::string>& labels);

}  // namespace supernova::tools
