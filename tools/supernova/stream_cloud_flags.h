// `supernova stream`'s joint-inference flags for the remote detector (docs/joint.md):
// --cloud HOST:PORT and what shapes its calls. Apart from cmd_stream.cc so that the stream's
// own flags and the cloud's grow without touching each other.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "stream/cloud.h"
#include "stream/kserve_cloud.h"
#include "supernova/status.h"

namespace supernova::tools {

// The flags fill the detector's options directly; their defaults are the options'.
void AddCloudFlags(CLI::App* cmd, stream::KServeCloudOptions* options);

// The KServe cloud detector the flags describe; null without --cloud.
Result<std::unique_ptr<stream::CloudDetector>> OpenCloud(const stream::KServeCloudOptions& options);

}  // namespace supernova::tools
