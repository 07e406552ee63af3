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
#include "providers/provider.h"
#include "runtime/memory_planner.h"
#include "runtime/placement.h"
#include "runtime/provider_registry.h"
#include "runtime/tensor_info.h"

namespace supernova {

std::string TensorInfo::ToString() const {
  std::string s = name + ": " + DataTypeName(dtype);
  if (!rank_known) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ",";
    s += dims[i] >= 0 ? std::to_string(dims[i]) : (symbols[i].empty() ? "?" : symbols[i]);
  }
  return s + "]";
}

namespace {

// One step of a run: a provider's compiled piece, or a copy between the host and a device.
// `node` (of the lowered graph) names it and its values, which live in numbered slots.
struct Step {
  const ir::Node* node;
  const providers::CompiledPiece* piece = nullptr;
  const providers::ExecutionProvider* copier = nullptr;  // a MemcpyToDevice/ToHost step
  bool to_device = false;
  std::vector<int> inputs;   // slot per input
  std::vector<int> outputs;  // slot per output
  std::vector<int> release;  // slots whose last use is this step
};

}  // namespace

class Session::Impl {
 public:
  SessionOptions options;
  ir::Model model;
  std::vector<std::unique_ptr<providers::ExecutionProvider>> providers;  // asked, in order
  std::vector<std::unique_ptr<providers::CompiledPiece>> pieces;
  PlacementReport placement;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<Step> steps;
  std::vector<Tensor> constants;  // slot -> tensor for initializers, else undefined
  std::vector<int> input_slots, output_slots;
  size_t num_slots = 0;
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
};

Status Session::Impl::Prepare() {
  ir::Graph& g = model.graph;
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
  runtime::ProviderSet set = runtime::MakeProviders(options.providers, po, false);
  std::vector<std::string> notes = std::move(set.notes);
  const std::vector<const providers::ExecutionProvider*> usable = std::move(set.asked);
  providers = std::move(set.owned);

  // Rewrites every provider can read; the cpu's own fusions wait for its pieces (Compile).
  // Before placement, so that dead-node elimination may drop an unsupported node whose output
  // nobody reads. Hoisting constants adds initializers and Partition reorders g.nodes: all
  // before any slot exists. Providers take values of known type and rank only.
  SN_RETURN_IF_ERROR(
      optimizer::Optimize(g, options.optimization, nullptr, optimizer::PassSet::kPortable));
  SN_RETURN_IF_ERROR(runtime::PrepareForPlacement(g));
  runtime::Placement pl = runtime::PlanPlacement(g, usable);

  // Unsupported operators are reported all at once, so a user sees the full gap.
  if (std::vector<size_t> unplaced = runtime::Unplaced(pl); !unplaced.empty()) {
    std::map<std::string, std::string> missing;  // "domain:op" -> first node
    for (size_t i : unplaced) {
      const ir::Node& n = g.nodes[i];
      missing.emplace(n.domain.empty() ? n.op_type : n.domain + "." + n.op_type, n.Label());
    }
    std::string msg = "unsupported operator";
    msg += missing.size() > 1 ? "s: " : ": ";
    bool first = true;
    for (const auto& [op, node] : missing) {
      msg += (first ? "" : ", ") + op + " (first at " + node + ")";
      first = false;
    }
    return Status::Unimplemented(msg);
  }

  // Compile every piece. One that fails goes, whole, to the first fallback provider (which
  // runs whatever has a kernel), with the reason recorded; a fallback that fails fails Open.
  int fallback = 0;
  while (!usable[fallback]->is_fallback()) ++fallback;
  pieces.resize(pl.pieces.size());
  for (size_t k = 0; k < pl.pieces.size(); ++k) {
    providers::Piece piece;
    piece.graph = &g;
    for (size_t i : pl.pieces[k].nodes) piece.nodes.push_back(&g.nodes[i]);
    runtime::PieceBoundary(g, pl.pieces[k].nodes, &piece.inputs, &piece.outputs);
    const providers::ExecutionProvider* ep = usable[pl.pieces[k].provider];
    auto c = ep->Compile(piece);
    if (!c.ok() && !ep->is_fallback()) {
      runtime::MovePiece(
          pl, k, fallback,
          std::string(ep->name()) + ": could not compile its piece (" + c.status().message() + ")");
      c = usable[fallback]->Compile(piece);
    }
    if (!c.ok()) return c.status();
    pieces[k] = std::move(*c);
  }

  runtime::LoweredGraph lowered = runtime::Lower(g, pl, usable);
  placement = runtime::Describe(g, pl, usable, lowered.copies);
  for (const auto* ep : usable)
    if (std::none_of(pl.pieces.begin(), pl.pieces.end(),
                     [&](const auto& piece) { return usable[piece.provider] == ep; }))
      notes.push_back(std::string(ep->name()) + ": took no nodes");
  placement.notes = std::move(notes);
  g.nodes = std::move(lowered.nodes);

  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& name) {
    auto [it, inserted] = slot.emplace(name, static_cast<int>(slot.size()));
    return it->second;
  };
  for (const auto& [name, t] : g.initializers) weights_bytes += t.nbytes();
  for (const std::string& in : g.inputs) {
    input_slots.push_back(slot_of(in));
    inputs.push_back(runtime::DescribeValue(g, in));
  }
  for (const ir::Node& n : g.nodes) {
    Step st;
    st.node = &n;
    if (n.op_type == "Piece") {
      st.piece = pieces[static_cast<size_t>(n.AttrInt("piece", -1))].get();
    } else {  // MemcpyToDevice / MemcpyToHost
      st.copier = usable[static_cast<size_t>(n.AttrInt("provider", -1))];
      st.to_device = n.op_type == "MemcpyToDevice";
    }
    for (const std::string& in : n.inputs) st.inputs.push_back(slot_of(in));
    for (const std::string& out : n.outputs) st.outputs.push_back(slot_of(out));
    steps.push_back(std::move(st));
  }
  for (const std::string& out : g.outputs) {
    output_slots.push_back(slot_of(out));
    outputs.push_back(runtime::DescribeValue(g, out));
  }
  num_slots = slot.size();
  // The pieces hold the constants they read; the session keeps only those that are graph
  // outputs themselves (a model may return a weight).
  constants.resize(num_slots);
  for (const auto& [name, t] : g.initializers)
    if (auto it = slot.find(name); it != slot.end()) constants[it->second] = t;

  // Lifetime: a value dies after the last step that reads it, unless it is a graph output,
  // a graph input (caller-owned) or a constant.
  std::vector<int> last_use(num_slots, -1);
  for (size_t i = 0; i < steps.size(); ++i) {
    for (int s : steps[i].inputs) last_use[s] = static_cast<int>(i);
    for (int s : steps[i].outputs)  // an output nobody reads dies where it is made
      if (last_use[s] < static_cast<int>(i)) last_use[s] = static_cast<int>(i);
  }
  std::vector<bool> pinned(num_slots, false);
  for (int s : output_slots) pinned[s] = true;
  for (int s : input_slots) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (constants[s].defined()) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (!pinned[s] && last_use[s] >= 0) steps[last_use[s]].release.push_back(static_cast<int>(s));
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
  const Impl& im = *impl_;
  std::vector<Tensor> values = im.constants;  // handles only: constants are shared
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
    values[im.input_slots[k]] = tensor;
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
  struct GiveBack {  // returns the pool on every exit path
    const Impl& im;
    std::shared_ptr<runtime::BufferPool>& pool;
    ~GiveBack() {
      std::lock_guard<std::mutex> lock(im.mu);
      im.idle_pools.push_back(std::move(pool));
    }
  } give_back{im, pool};
  std::vector<providers::NodeTime> profile;
  providers::RunContext ctx{pool, im.num_threads, im.options.profiling ? &profile : nullptr};

  for (const Step& st : im.steps) {
    std::vector<const Tensor*> in;
    in.reserve(st.inputs.size());
    for (int s : st.inputs) {
      if (!values[s].defined())
        return Status::Internal(st.node->Label() + ": input was not computed");
      in.push_back(&values[s]);
    }
    std::vector<Tensor> produced(st.outputs.size());
    const size_t profiled = profile.size();
    auto t0 = std::chrono::steady_clock::now();
    Status s;
    try {
      if (st.piece) {
        s = st.piece->Run(ctx, std::span<const Tensor* const>(in), &produced);
        if (s.ok() && produced.size() != st.outputs.size())
          s = Status::Internal(st.node->Label() + ": piece made " +
                               std::to_string(produced.size()) + " outputs, expected " +
                               std::to_string(st.outputs.size()));
      } else {
        s = st.to_device ? st.copier->CopyToDevice(*in[0], &produced[0])
                         : st.copier->CopyToHost(*in[0], &produced[0]);
      }
      // Pieces name the node that failed in their own messages; a copy is named here.
      if (!s.ok() && st.copier) s = s.WithContext(st.node->Label());
    } catch (const std::bad_alloc&) {  // a model asking for more memory than the device has
      s = Status::ResourceExhausted(st.node->Label() + ": out of memory allocating outputs");
    }
    if (!s.ok()) return s;
    // A piece that profiled its own nodes has said enough; other steps count as one entry.
    if (im.options.profiling && profile.size() == profiled) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      profile.push_back({st.node->name, st.node->op_type, ms});
    }
    for (size_t i = 0; i < st.outputs.size(); ++i) {
      if (!produced[i].defined())
        return Status::Internal(st.node->Label() + ": did not produce output " + std::to_string(i));
      values[st.outputs[i]] = std::move(produced[i]);
    }
    for (int r : st.release) values[r] = Tensor();
  }

  outputs->clear();
  for (int s : im.output_slots) outputs->push_back(values[s]);
  values.clear();
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
      im.last_profile.push_back({std::move(p.name), std::move(p.op_type), p.ms});
  }
  return Status::Ok();
}

}  // namespace supernova
