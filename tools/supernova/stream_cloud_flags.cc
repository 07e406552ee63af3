#include "stream_cloud_flags.h"

#include <fmt/format.h>

#include "collab/split.h"
#include "ir/onnx_import.h"
#include "supernova/commands.h"

namespace supernova::tools {

void AddCloudFlags(CLI::App* cmd, stream::KServeCloudOptions* args) {
  cmd->add_option("--cloud", args->target,
                  "Joint inference: a supernova serve's gRPC HOST:PORT that detects the frames "
                  "--escalate picks");
  cmd->add_option("--cloud-model", args->model,
                  "Its model (platform supernova_detector) that takes the frames");
  cmd->add_option(
         "--cloud-timeout-ms", args->timeout_ms,
         "Deadline of a cloud call, from handing the frame over (encoding included) to its answer")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cloud-jpeg-quality", args->jpeg_quality, "JPEG quality of the frames sent")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--cloud-max-side", args->max_side,
                  "Downscale frames sent until the longer side fits (0: as decoded)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cloud-max-in-flight", args->max_in_flight,
                  "Cloud calls at once; a frame picked while all are busy is not sent")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--cloud-link", args->link,
                  "Emulated link to the cloud: BW_MBIT,RTT_MS[,LOSS] or "
                  "REQ:BW,RTT[,LOSS];REQ:off;... (REQ counts the frames sent)");
  cmd->add_option("--cloud-link-seed", args->link_seed, "Seed of the emulated link's losses")
      ->capture_default_str();
}

void AddCloudFeatureFlags(CLI::App* cmd, CloudFeatureArgs* args) {
  cmd->add_option("--cloud-features", args->cut,
                  "Send the edge model's tensors T1[,T2...] instead of the frame; --cloud-model "
                  "is then the tail of a split at that cut (supernova split --cut)");
  cmd->add_option("--cloud-cut-codec", args->codec,
                  "How --cloud-features travel: none, fp16 or int8 (as the split's --cut-codec)")
      ->capture_default_str();
}

Result<std::unique_ptr<stream::Detector>> OpenEdgeDetector(const std::string& model,
                                                           stream::DetectorOptions options,
                                                           const CloudFeatureArgs& features,
                                                           stream::KServeCloudOptions* cloud) {
  if (features.cut.empty()) return stream::Detector::Open(model, std::move(options));
  if (cloud->target.empty())
    return Status::InvalidArgument("--cloud-features needs --cloud HOST:PORT");
  SN_ASSIGN_OR_RETURN(collab::CutCodec codec, collab::ParseCutCodec(features.codec));
  SN_ASSIGN_OR_RETURN(ir::Model m, ir::ImportOnnxFile(model));
  const std::vector<std::string> cut = SplitCommaList(features.cut);
  auto sent = collab::AddCutOutputs(&m, cut, codec);
  if (!sent.ok()) return sent.status().WithContext("--cloud-features");
  for (const collab::SentTensor& t : *sent)
    options.feature_outputs.insert(options.feature_outputs.end(), t.names.begin(), t.names.end());
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(m));
  SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::Detector> detector,
                      stream::Detector::OpenBytes(bytes, model, std::move(options)));
  cloud->decode = [d = detector.get()](const stream::FrameFeatures& outputs,
                                       const stream::Frame& frame) {
    return d->DecodeOutputs(outputs, frame);
  };
  cloud->to_frame = [d = detector.get()](std::vector<stream::Detection> boxes,
                                         const stream::Frame& frame) {
    return d->InputToFrame(std::move(boxes), frame);
  };
  cloud->features_label = fmt::format("{} ({})", features.cut, collab::CutCodecName(codec));
  return detector;
}

Result<std::unique_ptr<stream::CloudDetector>> OpenCloud(
    const stream::KServeCloudOptions& options) {
  if (options.target.empty()) {
    if (!options.model.empty() || !options.link.empty())
      return Status::InvalidArgument("--cloud-model and --cloud-link need --cloud HOST:PORT");
    return std::unique_ptr<stream::CloudDetector>();
  }
  if (options.model.empty()) return Status::InvalidArgument("--cloud needs --cloud-model NAME");
  SN_ASSIGN_OR_RETURN(std::unique_ptr<stream::KServeCloudDetector> cloud,
                      stream::KServeCloudDetector::Create(options));
  return std::unique_ptr<stream::CloudDetector>(std::move(cloud));
}

}  // namespace supernova::tools
