// supernova-serve's backend for the platform "supernova_detector": an object detector
// (stream::Detector) as a model of `supernova serve`'s repository, the cloud side of joint
// inference (docs/server.md). One encoded image in (IMAGE, BYTES [1]), its detections out
// (DETECTIONS, FP32 [N, 6]: x1, y1, x2, y2, score, class in the image's pixels).
#pragma once

#include "server/backend.h"

namespace supernova::tools {

server::BackendFactory DetectorBackendFactory();

}  // namespace supernova::tools
