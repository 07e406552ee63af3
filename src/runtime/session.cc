#include "supernova/session.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>

#include "ir/onnx_import.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/cpu_provider.h"
#include "providers/provider.h"
#include "runtime/memory_planner.h"
#include "runtime/placement.h"
#include "runtime/program.h"
#include "runtime/provider_registry.h"
#include "runtime/tensor_info.h"

namespace supernova {

std::string TensorInfo::ToString() const {
  if (kind != ValueKind::kTensor)
    return name + ": " + ValueKindName(kind) + "(" + DataTypeName(dtype) + ")";
  std::string s = name + ": " + DataTypeName(dtype);
  if (!rank_known) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i] >= 0 ? std::to_string(dims[i]) : (symbols[i].empty() ? "?" : symbols[i]);
  }
  return s + "]";
}

class Session::Impl {
 public:
  SessionOptions options;
  ir::Model model;
  std::vector<std::unique_ptr<providers::ExecutionProvider>> providers;  // asked, in order
  runtime::Bodies bodies;  // before the program, which points into it
  std::unique_ptr<runtime::Program> program;
  PlacementReport placement;
  std::vector<TensorInfo> inputs, outputs;
  size_t weights_bytes = 0;
  int num_threads = 1;

  mutable std::mutex mu;
  mutable size_t peak_bytes = 0;                  // GUARDED_BY(mu)
  mutable std::vector<NodeProfile> last_profile;  // GUARDED_BY(mu)
  // Idle buffer pools. A run takes one (or makes one) and gives it back, so steady-state runs
  // reuse the buffers of earlier runs instead of allocating and page-faulting them anew;
  // concurrent runs each hold their own.
  mutable std::vector<std::shared_ptr<runtime::BufferPool>> idle_pools;  // GUARDED_BY(mu)

  Status Prepare();
  Status CheckInput(const TensorInfo& info, const Tensor& t) const;
  Status CheckInput(const TensorInfo& info, const Value& v) const;
};

Status Session::Impl::Prepare() {
  if (options.num_threads < 0)
    return Status::InvalidArgument("num_threads must be >= 0 (0 means one per core)");
  num_threads = options.num_threads > 0 ? options.num_threads
                                        : static_cast<int>(std::thread::hardware_concurrency());
  if (num_threads <= 0) num_threads = 1;

  // The providers, in the user's order; one that cannot be made (a plugin missing or broken)
  // or cannot run here (no device) is noted and skipped: its nodes go to those after it.
  providers::ProviderOptions po;
  po.num_threads = num_threads;
  po.optimization = options.optimization;
  po.bf16 = options.precision == Precision::kBFloat16;
  if (options.precision == Precision::kModel)
    for (const auto& [key, value] : model.metadata.props)
      if (key == kPrecisionKey) po.bf16 = value == kPrecisionBf16;
  runtime::ProviderSet set = runtime::MakeProviders(options.providers, po, false);
  providers = std::move(set.owned);

  runtime::CompileOptions co;
  co.providers = std::move(set.asked);
  co.optimization = options.optimization;
  placement.notes = std::move(set.notes);
  SN_ASSIGN_OR_RETURN(program,
                      runtime::Program::Compile(std::move(model.graph), co, &bodies, &placement));
  const ir::Graph& g = program->graph();
  for (const auto& [name, t] : g.initializers) weights_bytes += t.nbytes();
  for (const std::string& in : g.inputs) inputs.push_back(runtime::DescribeValue(g, in));
  for (const std::string& out : g.outputs) outputs.push_back(runtime::DescribeValue(g, out));
  return Status::Ok();
}

Status Session::Impl::CheckInput(const TensorInfo& info, const Tensor& t) const {
  auto describe = [](const Tensor& x) {
    return DataTypeName(x.dtype()) + ShapeToString(x.shape());
  };
  if (info.dtype != DataType::kUndefined && t.dtype() != info.dtype)
    return Status::InvalidArgument("input '" + info.name + "': expected " +
                                   info.ToString().substr(info.name.size() + 2) + ", got " +
                                   describe(t));
  if (!info.rank_known) return Status::Ok();
  bool ok = t.rank() == info.dims.size();
  for (size_t i = 0; ok && i < info.dims.size(); ++i)
    if (info.dims[i] >= 0 && info.dims[i] != t.dim(i)) ok = false;
  if (!ok)
    return Status::InvalidArgument("input '" + info.name + "': expected shape " +
                                   info.ToString().substr(info.name.size() + 2) + ", got " +
                                   describe(t));
  return Status::Ok();
}

// The kind the model declares, then the dtype of a sequence's elements (a tensor's shape is
// the tensor overload's).
Status Session::Impl::CheckInput(const TensorInfo& info, const Value& v) const {
  const bool fits =
      v.is_tensor() ? info.kind == ValueKind::kTensor || info.kind == ValueKind::kOptionalTensor
      : v.is_sequence()
          ? info.kind == ValueKind::kSequence || info.kind == ValueKind::kOptionalSequence
          : IsOptional(info.kind);
  if (!fits)
    return Status::InvalidArgument("input '" + info.name + "': expected a " +
                                   ValueKindName(info.kind) + ", got " + v.Describe());
  if (v.is_tensor()) return CheckInput(info, v.tensor());
  for (const Tensor& t : v.sequence())
    if (info.dtype != DataType::kUndefined && t.dtype() != info.dtype)
      return Status::InvalidArgument("input '" + info.name + "': expected elements of " +
                                     DataTypeName(info.dtype) + ", got " + DataTypeName(t.dtype()) +
                                     ShapeToString(t.shape()));
  return Status::Ok();
}

Bf16Support CpuBf16Support() { return {cpu::NativeBf16(), cpu::CpuIsa()}; }

const std::string& PluginDirectory() { return runtime::PluginDirectory(); }

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Open(const std::string& path,
                                               const SessionOptions& options) {
  SN_ASSIGN_OR_RETURN(ir::Model model, ir::ImportOnnxFile(path));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->model = std::move(model);
  Status s = impl->Prepare();
  if (!s.ok()) return s.WithContext(path);
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Result<std::unique_ptr<Session>> Session::OpenBytes(std::string_view bytes,
                                                    const SessionOptions& options) {
  SN_ASSIGN_OR_RETURN(ir::Model model, ir::ImportOnnxBytes(bytes));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->model = std::move(model);
  SN_RETURN_IF_ERROR(impl->Prepare());
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

const std::vector<TensorInfo>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Session::outputs() const { return impl_->outputs; }
const SessionOptions& Session::options() const { return impl_->options; }
const PlacementReport& Session::placement() const { return impl_->placement; }
size_t Session::weights_bytes() const { return impl_->weights_bytes; }

size_t Session::peak_memory_bytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->peak_bytes;
}

std::vector<NodeProfile> Session::LastProfile() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->last_profile;
}

Status Session::Run(const std::vector<std::pair<std::string, Tensor>>& inputs,
                    std::vector<Tensor>* outputs, RunStats* stats) const {
  std::vector<std::pair<std::string, Value>> values;
  values.reserve(inputs.size());
  for (const auto& [name, tensor] : inputs) {
    if (!tensor.defined()) return Status::InvalidArgument("input '" + name + "' is empty");
    values.emplace_back(name, tensor);
  }
  std::vector<Value> outs;
  SN_RETURN_IF_ERROR(Run(values, &outs, stats));
  outputs->clear();
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].is_tensor())
      return Status::InvalidArgument("output '" + impl_->outputs[k].name + "' is a " +
                                     outs[k].Describe() + ": run the model with Values");
    outputs->push_back(outs[k].tensor());
  }
  return Status::Ok();
}

Status Session::Run(const std::vector<std::pair<std::string, Value>>& inputs,
                    std::vector<Value>* outputs, RunStats* stats) const {
  const Impl& im = *impl_;
  std::vector<const Value*> feeds(im.inputs.size(), nullptr);
  std::vector<bool> fed(im.inputs.size(), false);
  for (const auto& [name, tensor] : inputs) {
    size_t k = 0;
    while (k < im.inputs.size() && im.inputs[k].name != name) ++k;
    if (k == im.inputs.size()) {
      std::string known;
      for (const auto& i : im.inputs) known += (known.empty() ? "" : ", ") + i.name;
      return Status::InvalidArgument("unknown input '" + name + "' (model inputs: " + known + ")");
    }
    if (fed[k]) return Status::InvalidArgument("input '" + name + "' given twice");
    if (!tensor.defined()) return Status::InvalidArgument("input '" + name + "' is empty");
    SN_RETURN_IF_ERROR(im.CheckInput(im.inputs[k], tensor));
    fed[k] = true;
    feeds[k] = &tensor;
  }
  for (size_t k = 0; k < fed.size(); ++k)
    if (!fed[k]) return Status::InvalidArgument("missing input '" + im.inputs[k].name + "'");

  std::shared_ptr<runtime::BufferPool> pool;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    if (!im.idle_pools.empty()) {
      pool = std::move(im.idle_pools.back());
      im.idle_pools.pop_back();
    }
  }
  if (!pool) pool = std::make_shared<runtime::BufferPool>();
  pool->ResetStats();
  // Bytes still held from earlier runs (outputs the caller kept) are not this run's.
  const size_t live_at_start = pool->live_bytes();
  pool->SetLimit(im.options.max_run_bytes > 0 ? live_at_start + im.options.max_run_bytes : 0);
  struct GiveBack {  // returns the pool on every exit path
    const Impl& im;
    std::shared_ptr<runtime::BufferPool>& pool;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(im.mu);
      im.idle_pools.push_back(std::move(pool));
    }
  } give_back{im, pool};
  std::vector<providers::NodeTime> profile;
  providers::RunContext ctx{pool, im.num_threads, im.options.profiling ? &profile : nullptr,
                            &im.bodies};
  if (Status s = im.program->Run(ctx, feeds, outputs); !s.ok()) {
    if (s.code() == Status::Code::kResourceExhausted && pool->refusals() > 0)
      return Status::ResourceExhausted(s.message() + " (the run would hold more than " +
                                       std::to_string(im.options.max_run_bytes) +
                                       " bytes, the session's max_run_bytes)");
    return s;
  }
  const size_t peak = pool->peak_bytes() - live_at_start;
  if (stats) {
    stats->peak_bytes = peak;
    stats->reused_bytes = pool->reused_bytes();
    stats->allocations = pool->allocations();
  }
  std::lock_guard<std::mutex> lock(im.mu);
  if (peak > im.peak_bytes) im.peak_bytes = peak;
  if (im.options.profiling) {
    im.last_profile.clear();
    for (auto& p : profile)
      im.last_profile.push_back({std::move(p.name), std::move(p.op_type), p.ms, std::move(p.inputs),
                                 std::move(p.outputs)});
  }
  return Status::Ok();
}

}  // namespace supernova
