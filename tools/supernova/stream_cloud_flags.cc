#include "stream_cloud_flags.h"

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
