#include "runtime/program.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <new>
#include <unordered_set>

#include "optimizer/optimizer.h"
#include "runtime/placement.h"

namespace supernova::runtime {

// One step of a run: a provider's compiled piece, or a copy between the host and a device.
// `node` (of the lowered graph) names it and its values, which live in numbered slots.
struct Program::Step {
  const ir::Node* node;
  const providers::CompiledPiece* piece = nullptr;
  const providers::ExecutionProvider* copier = nullptr;  // a MemcpyToDevice/ToHost step
  bool to_device = false;
  std::vector<int> inputs;   // slot per input
  std::vector<int> outputs;  // slot per output
  std::vector<int> release;  // slots whose last use is this step
};

Program::~Program() = default;

namespace {

bool HasSubgraph(const ir::Node& n) {
  for (const auto& [key, a] : n.attributes)
    if (a.kind == ir::Attribute::Kind::kGraph) return true;
  return false;
}

}  // namespace

Result<std::unique_ptr<Program>> Program::Compile(ir::Graph graph, const CompileOptions& options,
                                                  Bodies* bodies, PlacementReport* placement) {
  std::unique_ptr<Program> p(new Program());
  ir::Graph& g = p->graph_;
  g = std::move(graph);
  const std::vector<const providers::ExecutionProvider*>& usable = options.providers;

  // Rewrites every provider can read; the cpu's own fusions wait for its pieces (Compile).
  // Before placement, so that dead-node elimination may drop an unsupported node whose output
  // nobody reads. Hoisting constants adds initializers and Partition reorders g.nodes: all
  // before any slot exists. Providers take values of known type and rank only.
  SN_RETURN_IF_ERROR(
      optimizer::Optimize(g, options.optimization, nullptr, optimizer::PassSet::kPortable));
  SN_RETURN_IF_ERROR(PrepareForPlacement(g));
  Placement pl = PlanPlacement(g, usable);

  // Unsupported operators are reported all at once, so a user sees the full gap.
  if (std::vector<size_t> unplaced = Unplaced(pl); !unplaced.empty()) {
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
  // Bodies see this scope as optimized, with its constants hoisted and its types inferred.
  for (const ir::Node& n : g.nodes)
    if (HasSubgraph(n)) SN_RETURN_IF_ERROR(bodies->Add(n, g, options));

  // Compile every piece. One that fails goes, whole, to the first fallback provider (which
  // runs whatever has a kernel), with the reason recorded; a fallback that fails fails Open.
  int fallback = 0;
  while (!usable[fallback]->is_fallback()) ++fallback;
  p->pieces_.resize(pl.pieces.size());
  for (size_t k = 0; k < pl.pieces.size(); ++k) {
    providers::Piece piece;
    piece.graph = &g;
    for (size_t i : pl.pieces[k].nodes) piece.nodes.push_back(&g.nodes[i]);
    PieceBoundary(g, pl.pieces[k].nodes, &piece.inputs, &piece.outputs);
    const providers::ExecutionProvider* ep = usable[pl.pieces[k].provider];
    auto c = ep->Compile(piece);
    if (!c.ok() && !ep->is_fallback()) {
      MovePiece(
          pl, k, fallback,
          std::string(ep->name()) + ": could not compile its piece (" + c.status().message() + ")");
      c = usable[fallback]->Compile(piece);
    }
    if (!c.ok()) return c.status();
    p->pieces_[k] = std::move(*c);
  }

  LoweredGraph lowered = Lower(g, pl, usable);
  if (placement) {
    std::vector<std::string> notes = std::move(placement->notes);
    *placement = Describe(g, pl, usable, lowered.copies);
    for (const auto* ep : usable)
      if (std::none_of(pl.pieces.begin(), pl.pieces.end(),
                       [&](const auto& piece) { return usable[piece.provider] == ep; }))
        notes.push_back(std::string(ep->name()) + ": took no nodes");
    placement->notes = std::move(notes);
  }
  g.nodes = std::move(lowered.nodes);

  std::unordered_map<std::string, int> slot;
  auto slot_of = [&](const std::string& name) {
    auto [it, inserted] = slot.emplace(name, static_cast<int>(slot.size()));
    return it->second;
  };
  for (const std::string& in : g.inputs) p->input_slots_.push_back(slot_of(in));
  for (const ir::Node& n : g.nodes) {
    Step st;
    st.node = &n;
    if (n.op_type == "Piece") {
      st.piece = p->pieces_[static_cast<size_t>(n.AttrInt("piece", -1))].get();
    } else {  // MemcpyToDevice / MemcpyToHost
      st.copier = usable[static_cast<size_t>(n.AttrInt("provider", -1))];
      st.to_device = n.op_type == "MemcpyToDevice";
    }
    for (const std::string& in : n.inputs) st.inputs.push_back(slot_of(in));
    for (const std::string& out : n.outputs) st.outputs.push_back(slot_of(out));
    p->steps_.push_back(std::move(st));
  }
  for (const std::string& out : g.outputs) p->output_slots_.push_back(slot_of(out));
  const size_t num_slots = p->num_slots_ = slot.size();
  // The pieces hold the constants they read; the program keeps only those that are graph
  // outputs themselves (a model may return a weight).
  p->constants_.resize(num_slots);
  for (const auto& [name, t] : g.initializers)
    if (auto it = slot.find(name); it != slot.end()) p->constants_[it->second] = t;

  // Lifetime: a value dies after the last step that reads it, unless it is a graph output,
  // a graph input (caller-owned) or a constant.
  std::vector<int> last_use(num_slots, -1);
  for (size_t i = 0; i < p->steps_.size(); ++i) {
    for (int s : p->steps_[i].inputs) last_use[s] = static_cast<int>(i);
    for (int s : p->steps_[i].outputs)  // an output nobody reads dies where it is made
      if (last_use[s] < static_cast<int>(i)) last_use[s] = static_cast<int>(i);
  }
  std::vector<bool> pinned(num_slots, false);
  for (int s : p->output_slots_) pinned[s] = true;
  for (int s : p->input_slots_) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (p->constants_[s].defined()) pinned[s] = true;
  for (size_t s = 0; s < num_slots; ++s)
    if (!pinned[s] && last_use[s] >= 0)
      p->steps_[last_use[s]].release.push_back(static_cast<int>(s));
  return p;
}

Status Program::Run(const providers::RunContext& ctx, std::span<const Value* const> feeds,
                    std::vector<Value>* outputs) const {
  if (feeds.size() != input_slots_.size())
    return Status::Internal("program: " + std::to_string(feeds.size()) + " feeds, expected " +
                            std::to_string(input_slots_.size()));
  // Handles only: constants are shared, sequences immutable.
  std::vector<Value> values(constants_.begin(), constants_.end());
  for (size_t k = 0; k < feeds.size(); ++k) values[input_slots_[k]] = *feeds[k];

  for (const Step& st : steps_) {
    std::vector<const Value*> in;
    in.reserve(st.inputs.size());
    for (int s : st.inputs) {
      if (!values[s].defined())
        return Status::Internal(st.node->Label() + ": input was not computed");
      in.push_back(&values[s]);
    }
    std::vector<Value> produced(st.outputs.size());
    const size_t profiled = ctx.profile ? ctx.profile->size() : 0;
    auto t0 = std::chrono::steady_clock::now();
    Status s;
    try {
      if (st.piece) {
        s = st.piece->RunValues(ctx, std::span<const Value* const>(in), &produced);
        if (s.ok() && produced.size() != st.outputs.size())
          s = Status::Internal(st.node->Label() + ": piece made " +
                               std::to_string(produced.size()) + " outputs, expected " +
                               std::to_string(st.outputs.size()));
      } else if (!in[0]->is_tensor()) {  // placement keeps sequences on the host
        s = Status::Internal("a " + in[0]->Describe() + " cannot be copied to or from a device");
      } else {
        Tensor copied;
        s = st.to_device ? st.copier->CopyToDevice(in[0]->tensor(), &copied)
                         : st.copier->CopyToHost(in[0]->tensor(), &copied);
        produced[0] = std::move(copied);
      }
      // Pieces name the node that failed in their own messages; a copy is named here.
      if (!s.ok() && st.copier) s = s.WithContext(st.node->Label());
    } catch (const std::bad_alloc&) {  // a model asking for more memory than the device has
      s = Status::ResourceExhausted(st.node->Label() + ": out of memory allocating outputs");
    }
    if (!s.ok()) return s;
    // A piece that profiled its own nodes has said enough; other steps count as one entry.
    if (ctx.profile && ctx.profile->size() == profiled) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      ctx.profile->push_back(
          {st.node->name, st.node->op_type, ms, st.node->inputs, st.node->outputs});
    }
    for (size_t i = 0; i < st.outputs.size(); ++i) {
      if (!produced[i].defined())
        return Status::Internal(st.node->Label() + ": did not produce output " + std::to_string(i));
      values[st.outputs[i]] = std::move(produced[i]);
    }
    for (int r : st.release) values[r] = Value();
  }
  outputs->clear();
  for (int s : output_slots_) outputs->push_back(values[s]);
  return Status::Ok();
}

// A body as a program of its own. Its graph's inputs are the body's inputs followed by the
// outer values it reads (outer_names(), sorted); outer constants became its initializers.
class Bodies::Body final : public ops::Subgraph {
 public:
  Body(std::unique_ptr<Program> program, size_t num_inputs, std::vector<std::string> outer,
       const Bodies* runner)
      : program_(std::move(program)),
        num_inputs_(num_inputs),
        outer_(std::move(outer)),
        runner_(runner) {}

  std::span<const std::string> outer_names() const override { return outer_; }
  size_t num_inputs() const override { return num_inputs_; }
  size_t num_outputs() const override { return program_->graph().outputs.size(); }

  Status Run(const ops::KernelContext& ctx, std::span<const Value* const> inputs,
             std::span<const Value* const> outer, std::vector<Value>* outputs) const override {
    if (inputs.size() != num_inputs_ || outer.size() != outer_.size())
      return Status::Internal("body: wrong number of inputs");
    std::vector<const Value*> feeds(inputs.begin(), inputs.end());
    feeds.insert(feeds.end(), outer.begin(), outer.end());
    // The body's steps are not profiled one by one: the node that runs it counts as one.
    providers::RunContext rc{ctx.allocator(), ctx.num_threads, nullptr, runner_};
    return program_->Run(rc, feeds, outputs);
  }

 private:
  std::unique_ptr<Program> program_;
  size_t num_inputs_;
  std::vector<std::string> outer_;
  const Bodies* runner_;
};

Bodies::Bodies() = default;
Bodies::~Bodies() = default;

const ops::Subgraph* Bodies::Find(const ir::Graph* body) const {
  auto it = bodies_.find(body);
  return it == bodies_.end() ? nullptr : it->second.get();
}

Status Bodies::Add(const ir::Node& node, const ir::Graph& scope, const CompileOptions& options) {
  for (const auto& [key, a] : node.attributes) {
    if (a.kind != ir::Attribute::Kind::kGraph || !a.g || bodies_.count(a.g.get())) continue;
    ir::Graph body = *a.g;  // a copy: the program rewrites it
    const size_t num_inputs = body.inputs.size();
    std::unordered_set<std::string> reads;
    ir::CollectOuterReads(body, &reads);
    std::vector<std::string> outer(reads.begin(), reads.end());
    std::sort(outer.begin(), outer.end());
    std::vector<std::string> passed;
    for (const std::string& v : outer) {
      if (auto it = scope.initializers.find(v); it != scope.initializers.end()) {
        body.initializers.emplace(v, it->second);  // a handle: the bytes are shared
      } else {
        body.inputs.push_back(v);
        passed.push_back(v);
      }
      if (const ir::ValueType* t = scope.TypeOf(v)) body.value_types.emplace(v, *t);
    }
    const std::string where = node.Label() + ": " + key;
    Status s = body.TopologicalSort();
    if (s.ok()) s = body.Validate();
    if (!s.ok()) return s.WithContext(where);
    auto program = Program::Compile(std::move(body), options, this, nullptr);
    if (!program.ok()) return program.status().WithContext(where);
    bodies_.emplace(a.g.get(), std::make_unique<Body>(std::move(*program), num_inputs,
                                                      std::move(passed), this));
  }
  return Status::Ok();
}

}  // namespace supernova::runtime
