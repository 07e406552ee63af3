#include "supernova/session.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>

#include "ir/onnx_import.h"
#include "ir/shape_inference.h"
#include "optimizer/optimizer.h"
#include "providers/cpu/dnnl/region.h"
#include "providers/cpu/kernel.h"
#include "providers/provider.h"
#include "runtime/memory_planner.h"
#include "runtime/placement.h"
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

// One node ready to execute: its kernel and the slots of its inputs and outputs. A step may
// instead be a oneDNN region (a run of nodes executed as one), a provider's compiled piece, or
// a device copy; `node` then describes it.
struct Step {
  const ir::Node* node;
  cpu::KernelFn fn = nullptr;
  std::shared_ptr<const cpu::dnnl_ops::Region> region;
  const providers::CompiledPiece* piece = nullptr;
  const providers::ExecutionProvider* copier = nullptr;  // a MemcpyToDevice/ToHost step
  bool to_device = false;
  int64_t opset;
  std::vector<int> inputs;   // slot per input, -1 when omitted
  std::vector<int> outputs;  // slot per output, -1 when omitted
  std::vector<int> release;  // slots whose last use is this step
};

}  // namespace

class Session::Impl {
 public:
  SessionOptions options;
  ir::Model model;
  std::vector<std::unique_ptr<providers::ExecutionProvider>> providers;  // asked, in order
  std::deque<ir::Node> piece_nodes;  // the nodes compiled pieces were built from
  std::vector<std::unique_ptr<providers::CompiledPiece>> pieces;
  PlacementReport placement;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<Step> steps;
  std::deque<ir::Node> region_nodes;  // stand-in nodes of the region steps (stable addresses)
  std::vector<Tensor> constants;      // slot -> tensor for initializers, else undefined
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
  // Providers before the first cpu entry are asked in order; "cpu" runs what oneDNN takes
  // through oneDNN regions and the rest with the reference kernels; "cpu_reference" runs the
  // rest with the reference kernels alone (the tests' oracle).
  bool use_dnnl = true;
  std::vector<std::string> notes;
  std::vector<const providers::ExecutionProvider*> usable;
  for (size_t i = 0; i < options.providers.size(); ++i) {
    const std::string& name = options.providers[i];
    if (name == "cpu" || name == "cpu_reference") {
      use_dnnl = name == "cpu";
      for (size_t j = i + 1; j < options.providers.size(); ++j)
        notes.push_back(options.providers[j] + ": not asked (" + name +
                        " before it takes every node)");
      break;
    }
    providers::ProviderOptions po;
    po.num_threads = options.num_threads;
    SN_ASSIGN_OR_RETURN(auto ep, providers::CreateProvider(name, po));
    if (Status s = ep->Available(); !s.ok()) {
      notes.push_back(name + ": not available here (" + s.message() + "), its nodes run on cpu");
    } else {
      usable.push_back(ep.get());
    }
    providers.push_back(std::move(ep));
  }
  // Before the kernel check: the fusions only make ops that have kernels, and dead-node
  // elimination may drop an unsupported node whose output nobody reads. With other providers
  // the fusions into the cpu's own ops wait until the cpu's nodes are known.
  SN_RETURN_IF_ERROR(optimizer::Optimize(
      g, options.optimization, nullptr,
      usable.empty() ? optimizer::PassSet::kEvery : optimizer::PassSet::kPortable));
  // Hoisting adds initializers and lowering and Partition reorder g.nodes: all before any
  // slot exists. Providers and regions take values of known type and rank only.
  if (use_dnnl || !usable.empty()) {
    SN_RETURN_IF_ERROR(runtime::PrepareForPlacement(g));
  }

  runtime::Placement pl = runtime::PlanPlacement(g, usable);
  // Compile the pieces, last first so that returning one to the cpu leaves the indices of
  // those still to compile unchanged. The nodes are copied: g.nodes is rebuilt below.
  std::vector<std::unique_ptr<providers::CompiledPiece>> compiled(pl.pieces.size());
  for (size_t k = pl.pieces.size(); k-- > 0;) {
    const auto& piece_nodes_k = pl.pieces[k];
    const providers::ExecutionProvider* ep = usable[piece_nodes_k.provider];
    providers::Piece piece;
    piece.graph = &g;
    for (size_t i : piece_nodes_k.nodes)
      piece.nodes.push_back(&piece_nodes.emplace_back(g.nodes[i]));
    runtime::PieceBoundary(g, piece_nodes_k.nodes, &piece.inputs, &piece.outputs);
    auto c = ep->Compile(piece);
    if (c.ok()) {
      compiled[k] = std::move(*c);
    } else {
      runtime::ReturnPieceToCpu(
          g, pl, k,
          std::string(ep->name()) + ": could not compile its piece (" + c.status().message() + ")");
      compiled.erase(compiled.begin() + static_cast<long>(k));
    }
  }
  pieces = std::move(compiled);

  // Unsupported operators are reported all at once, so a user sees the full gap.
  std::map<std::string, std::string> missing;  // "domain:op" -> first node
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    if (pl.provider[i] == runtime::Placement::kCpu && !cpu::FindKernel(n.domain, n.op_type)) {
      std::string key = n.domain.empty() ? n.op_type : n.domain + "." + n.op_type;
      missing.emplace(key, n.Label());
    }
  }
  if (!missing.empty()) {
    std::string msg = "unsupported operator";
    msg += missing.size() > 1 ? "s: " : ": ";
    bool first = true;
    for (const auto& [op, node] : missing) {
      msg += (first ? "" : ", ") + op + " (first at " + node + ")";
      first = false;
    }
    return Status::Unimplemented(msg);
  }

  runtime::LoweredGraph lowered = runtime::Lower(g, pl, usable);
  placement = runtime::Describe(g, pl, usable, lowered.copies);
  placement.notes = std::move(notes);
  g.nodes = std::move(lowered.nodes);
  if (!usable.empty())
    SN_RETURN_IF_ERROR(
        optimizer::Optimize(g, options.optimization, nullptr, optimizer::PassSet::kCpuFusions));

  std::vector<std::pair<size_t, size_t>> regions;
  if (use_dnnl) regions = cpu::dnnl_ops::Partition(g);

  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& name) {
    auto [it, inserted] = slot.emplace(name, static_cast<int>(slot.size()));
    return it->second;
  };
  for (const auto& [name, t] : g.initializers) {
    int s = slot_of(name);
    if (constants.size() <= static_cast<size_t>(s)) constants.resize(s + 1);
    constants[s] = t;
    weights_bytes += t.nbytes();
  }
  for (const std::string& in : g.inputs) {
    input_slots.push_back(slot_of(in));
    inputs.push_back(runtime::DescribeValue(g, in));
  }
  std::vector<int> last_use;
  size_t next_region = 0;
  for (size_t i = 0; i < g.nodes.size();) {
    Step st;
    st.opset = g.Opset();
    if (next_region < regions.size() && regions[next_region].first == i) {
      const auto [begin, end] = regions[next_region++];
      std::vector<const ir::Node*> members;
      for (size_t k = begin; k < end; ++k) members.push_back(&g.nodes[k]);
      auto region = std::make_shared<const cpu::dnnl_ops::Region>(g, std::move(members));
      ir::Node& stand_in = region_nodes.emplace_back();
      stand_in.op_type = "DnnlRegion";
      stand_in.name = region->Describe();
      stand_in.inputs = region->inputs();
      stand_in.outputs = region->outputs();
      st.node = &stand_in;
      st.region = std::move(region);
      i = end;
    } else {
      const ir::Node& n = g.nodes[i++];
      st.node = &n;
      if (n.domain == runtime::kRuntimeDomain && n.op_type == "Piece") {
        st.piece = pieces[static_cast<size_t>(n.AttrInt("piece", -1))].get();
      } else if (n.domain == runtime::kRuntimeDomain) {  // MemcpyToDevice / MemcpyToHost
        st.copier = usable[static_cast<size_t>(n.AttrInt("provider", -1))];
        st.to_device = n.op_type == "MemcpyToDevice";
      } else {
        st.fn = cpu::FindKernel(n.domain, n.op_type)->fn;
        st.opset = g.Opset(n.domain);
      }
    }
    for (const std::string& in : st.node->inputs)
      st.inputs.push_back(in.empty() ? -1 : slot_of(in));
    for (const std::string& out : st.node->outputs)
      st.outputs.push_back(out.empty() ? -1 : slot_of(out));
    steps.push_back(std::move(st));
  }
  for (const std::string& out : g.outputs) {
    output_slots.push_back(slot_of(out));
    outputs.push_back(runtime::DescribeValue(g, out));
  }
  num_slots = slot.size();
  constants.resize(num_slots);

  // Lifetime: a value dies after the last step that reads it, unless it is a graph output,
  // a graph input (caller-owned) or a constant.
  last_use.assign(num_slots, -1);
  for (size_t i = 0; i < steps.size(); ++i) {
    for (int s : steps[i].inputs)
      if (s >= 0) last_use[s] = static_cast<int>(i);
    for (int s : steps[i].outputs)  // an output nobody reads dies where it is made
      if (s >= 0 && last_use[s] < static_cast<int>(i)) last_use[s] = static_cast<int>(i);
  }
  std::vector<bool> pinned(num_slots, false);
  for (int s : output_slots) pinned[s] = true;
  for (int s : input_slots) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (constants[s].defined()) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (!pinned[s] && last_use[s] >= 0) steps[last_use[s]].release.push_back(static_cast<int>(s));

  num_threads = options.num_threads > 0 ? options.num_threads
                                        : static_cast<int>(std::thread::hardware_concurrency());
  if (num_threads <= 0) num_threads = 1;
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
  std::vector<NodeProfile> profile;
  if (im.options.profiling) profile.reserve(im.steps.size());
  omp_set_num_threads(im.num_threads);

  for (const Step& st : im.steps) {
    std::vector<const Tensor*> in;
    in.reserve(st.inputs.size());
    for (int s : st.inputs) {
      if (s >= 0 && !values[s].defined())
        return Status::Internal(st.node->Label() + ": input was not computed");
      in.push_back(s >= 0 ? &values[s] : nullptr);
    }
    while (!in.empty() && in.back() == nullptr) in.pop_back();
    const std::vector<const Tensor*> ctx_inputs = in;  // for pieces and copies
    cpu::KernelContext ctx(*st.node, st.opset, std::move(in), pool, im.num_threads);
    auto t0 = std::chrono::steady_clock::now();
    Status s;
    try {
      if (st.piece) {
        s = st.piece->Run(std::span<const Tensor* const>(ctx_inputs), &ctx.outputs());
        if (s.ok() && ctx.outputs().size() != st.outputs.size())
          s = Status::Internal(st.node->Label() + ": piece made " +
                               std::to_string(ctx.outputs().size()) + " outputs, expected " +
                               std::to_string(st.outputs.size()));
      } else if (st.copier) {
        const Tensor& from = *ctx_inputs[0];
        s = st.to_device ? st.copier->CopyToDevice(from, &ctx.outputs()[0])
                         : st.copier->CopyToHost(from, &ctx.outputs()[0]);
      } else {
        s = st.region ? st.region->Run(ctx) : st.fn(ctx);
      }
      if (!s.ok() && (st.piece || st.copier)) s = s.WithContext(st.node->Label());
    } catch (const std::bad_alloc&) {  // a model asking for more memory than the device has
      s = Status::ResourceExhausted(st.node->Label() + ": out of memory allocating outputs");
    }
    if (!s.ok()) return s;
    if (im.options.profiling) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      profile.push_back({st.node->name, st.node->op_type, ms});
    }
    auto& produced = ctx.outputs();
    for (size_t i = 0; i < st.outputs.size(); ++i) {
      if (st.outputs[i] < 0) continue;
      if (!produced[i].defined())
        return Status::Internal(st.node->Label() + ": kernel did not produce output " +
                                std::to_string(i));
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
  if (im.options.profiling) im.last_profile = std::move(profile);
  return Status::Ok();
}

}  // namespace supernova
