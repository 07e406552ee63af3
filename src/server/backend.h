// What a loaded model version runs. Most models are ONNX files run by a Session of the
// runtime; a config whose `platform` names another backend (registered in
// ServerOptions::backends by the executable that links it, as supernova-serve registers the
// edge side of a split) gets whatever that backend's factory makes from the version's
// directory and the config. The scheduler, the batcher and the metrics treat both alike.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model_config.pb.h"
#include "supernova/session.h"
#include "supernova/status.h"
#include "supernova/tensor.h"

namespace supernova::server {

// A request to a sub-resource a backend offers beside the protocol's own endpoints, such as a
// learned classifier's classes: /v2/models/NAME[/versions/V]/RESOURCE[/PATH...] over HTTP.
struct ResourceRequest {
  std::string method;             // "GET", "POST", "DELETE", ...
  std::vector<std::string> path;  // the segments after RESOURCE, each percent-decoded
  std::string body;
};
struct ResourceResponse {
  int status = 200;
  std::string body;   // JSON
  std::string allow;  // with a 405: the methods allowed ("GET, POST")
};
// Errors are statuses (a front end maps them as it maps any other: kInvalidArgument is 400);
// a response the handler builds itself may have any status.
using ResourceHandler = std::function<Result<ResourceResponse>(const ResourceRequest&)>;

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual const std::vector<TensorInfo>& inputs() const = 0;
  virtual const std::vector<TensorInfo>& outputs() const = 0;
  // Runs one batch; called from several instance threads at once.
  virtual Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                     std::vector<Tensor>* outputs) const = 0;
  // The handler of the sub-resource `name`, or null when the backend has none (most). It runs
  // on a front end's thread, beside Run on the instances' threads; the server keeps the
  // backend alive while it runs. Requests to it need the admin token: a resource changes or
  // reveals what a model answers.
  virtual ResourceHandler Resource(const std::string& name) const {
    (void)name;
    return nullptr;
  }
  // Where the model's nodes run, for a backend that runs one Session (the console shows it);
  // null for the others.
  virtual const PlacementReport* placement() const { return nullptr; }
  // What the backend knows of its own state, as one JSON object for the console (a split's
  // cut and link, a classifier's class count); empty for none. Read with the inference token,
  // so nothing an admin guards (class names) and no secret. Called on a front end's thread
  // beside Run: it must not wait for a request.
  virtual std::string StatusJson() const { return {}; }
};

// A Session as a backend (the platform onnxruntime_onnx).
std::shared_ptr<const ModelBackend> SessionBackend(std::shared_ptr<const Session> session);

// What a backend factory is given for one version of one model.
struct BackendContext {
  std::string model;
  int64_t version = 0;
  std::string version_dir;               // <repository>/<model>/<version>
  const inference::ModelConfig* config;  // as read (parameters, platform)
  SessionOptions session_options;        // threads and providers the server would use
  // The repository root: every file the backend reads must resolve inside it
  // (CheckInsideRepository in model_repository.h).
  std::string repository;
};
using BackendFactory =
    std::function<Result<std::shared_ptr<const ModelBackend>>(const BackendContext&)>;

}  // namespace supernova::server
