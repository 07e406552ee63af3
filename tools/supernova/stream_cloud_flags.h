// `supernova stream`'s joint-inference flags for the remote detector (docs/joint.md):
// --cloud HOST:PORT and what shapes its calls. Apart from cmd_stream.cc so that the stream's
// own flags and the cloud's grow without touching each other.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "stream/cloud.h"
#include "stream/detector.h"
#include "stream/kserve_cloud.h"
#include "supernova/status.h"

namespace supernova::tools {

// The flags fill the detector's options directly; their defaults are the options'.
void AddCloudFlags(CLI::App* cmd, stream::KServeCloudOptions* options);

// Feature-level joint inference (docs/joint.md): the edge's cut tensors go instead of the frame.
struct CloudFeatureArgs {
  std::string cut;             // --cloud-features T1[,T2...]; empty: the frame goes
  std::string codec = "int8";  // --cloud-cut-codec none|fp16|int8
};
void AddCloudFeatureFlags(CLI::App* cmd, CloudFeatureArgs* args);

// The edge's detector: the model as it is; or, with --cloud-features, the model made to return
// the coded cut tensors too (collab::AddCutOutputs), and `cloud` set to send them and to decode
// the tail's answers with this detector. The detector must outlive the cloud made from `cloud`.
Result<std::unique_ptr<stream::Detector>> OpenEdgeDetector(const std::string& model,
                                                           stream::DetectorOptions options,
                                                           const CloudFeatureArgs& features,
                                                           stream::KServeCloudOptions* cloud);

// The KServe cloud detector the flags describe; null without --cloud.
Result<std::unique_ptr<stream::CloudDetector>> OpenCloud(const stream::KServeCloudOptions& options);

}  // namespace supernova::tools
