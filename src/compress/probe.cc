#include "compress/probe.h"

#include <algorithm>
#include <map>

#include "ir/onnx_import.h"

namespace supernova::compress {

Result<Probe> Probe::Open(const ir::Model& model, const std::vector<std::string>& values,
                          int threads) {
  ir::Model probe = model;
  ir::Graph& g = probe.graph;
  Probe p;
  p.feed_names_ = g.inputs;
  std::vector<std::string> outputs;
  std::map<std::string, int> position;
  for (const std::string& v : values) {
    const auto in = std::find(g.inputs.begin(), g.inputs.end(), v);
    if (in != g.inputs.end()) {  // a graph input is no node's output: hand back the feed
      p.index_.push_back(-1 - static_cast<int>(in - g.inputs.begin()));
      continue;
    }
    if (g.IsInitializer(v))
      return Status::InvalidArgument("probe: '" + v + "' is a constant, not an activation");
    auto [it, added] = position.emplace(v, static_cast<int>(outputs.size()));
    if (added) outputs.push_back(v);
    p.index_.push_back(it->second);
  }
  g.outputs = outputs;
  SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(probe));
  SessionOptions options;
  options.num_threads = threads;
  SN_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::OpenBytes(bytes, options));
  p.session_ = std::move(session);
  return p;
}

Result<std::vector<Tensor>> Probe::Run(const Feeds& feeds) const {
  std::vector<Tensor> outputs;
  SN_RETURN_IF_ERROR(session_->Run(feeds, &outputs));
  std::vector<Tensor> values;
  values.reserve(index_.size());
  for (int i : index_) {
    if (i >= 0) {
      values.push_back(outputs[static_cast<size_t>(i)]);
      continue;
    }
    const std::string& name = feed_names_[static_cast<size_t>(-1 - i)];
    const auto f =
        std::find_if(feeds.begin(), feeds.end(), [&](const auto& kv) { return kv.first == name; });
    values.push_back(f->second);  // Run() checked every input was fed
  }
  return values;
}

}  // namespace supernova::compress
