// Compiling a region: one oneDNN primitive (or two) per node, layouts chosen by the
// primitives themselves ("any"), reorders only where a consumer wants another layout than
// its producer made, or where a value leaves the region. This file holds the machinery;
// op_compilers.cc and the files beside it the compiler of each op type.
#include "providers/cpu/dnnl/region_builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "providers/cpu/dnnl/plan_builder.h"

namespace supernova::cpu::dnnl_ops {

PlanBuilder::PlanBuilder(const ir::Graph& graph, const std::vector<const ir::Node*>& nodes,
                         const std::vector<std::string>& outputs,
                         const std::map<std::string, Tensor>& constants, Region::Plan* plan,
                         bool bf16)
    : graph_(graph),
      nodes_(nodes),
      constants_(constants),
      plan_(plan),
      compute_(bf16 && Bf16Native() ? memory::data_type::bf16 : kF32) {
  for (const ir::Node& n : graph.nodes)
    for (const std::string& in : n.inputs) ++uses_[in];
  for (const std::string& out : graph.outputs) ++uses_[out];
  for (const std::string& out : outputs) ++uses_[out];  // read after the region
  outputs_.insert(outputs.begin(), outputs.end());
  for (size_t k = 0; k < nodes.size(); ++k)
    for (const std::string& in : nodes[k]->inputs) last_read_[in] = k;
}

// Compiles nodes_[k] unless an earlier primitive absorbed it as a post-op.
void PlanBuilder::AddNodeAt(size_t k) {
  if (absorbed_.count(k)) return;
  pos_ = k;
  AddNode(*nodes_[k]);
}

void PlanBuilder::AddInput(const std::string& name, int index, const Tensor& t) {
  // 8-bit integers come in as a QuantizeLinear's output made outside the region.
  const bool integer = t.dtype() == DataType::kUint8 || t.dtype() == DataType::kInt8;
  if (t.dtype() != DataType::kFloat32 && !integer)
    throw NotMapped("input " + name + " is " + DataTypeName(t.dtype()));
  // oneDNN 2.6 divides by a zero dim in some primitives' set-up (a matmul with no rows raised
  // SIGFPE, found by fuzz_onnx_model); the reference kernels handle empty tensors.
  if (t.numel() == 0) throw NotMapped("input " + name + " is empty");
  Buffer b;
  b.kind = Kind::kInput;
  b.md = PlainDesc(t.shape());
  if (integer)
    b.md = Retyped(b.md,
                   t.dtype() == DataType::kUint8 ? memory::data_type::u8 : memory::data_type::s8);
  b.index = index;
  values_[name] = {t.shape(), NewBuffer(std::move(b)), integer};
}

// Hands each region output to the caller in plain layout.
void PlanBuilder::Finish(const std::vector<std::string>& outputs) {
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Value& v = Get(outputs[j]);
    // Integers leave as integers; real numbers as float, dequantized on the way out.
    const memory::desc plain =
        v.integer ? Retyped(PlainDesc(v.shape), DescOf(v.buffer).data_type()) : PlainDesc(v.shape);
    // A temporary whose bytes are already the plain output (itself, or seen through a
    // Transpose) becomes the output and is written in place.
    const Buffer& seen = plan_->buffers[v.buffer];
    const int root = seen.kind == Kind::kAlias ? seen.alias : v.buffer;
    Buffer& b = plan_->buffers[root];
    if (b.kind == Kind::kTemp && seen.md == plain && !handed_out_.count(root)) {
      b.kind = Kind::kOutput;
      b.index = static_cast<int>(j);
      b.shape = v.shape;
      handed_out_.insert(root);
      continue;
    }
    Buffer out;
    out.kind = Kind::kOutput;
    out.md = plain;
    out.index = static_cast<int>(j);
    out.shape = v.shape;
    const int ob = NewBuffer(std::move(out));
    // Integers leave as they are: the copy means what the original means.
    if (const Quant* q = QuantOf(v.buffer); q && v.integer) quant_[ob] = *q;
    AddReorder(v.buffer, ob);
  }
  ComputeLifetimes();
}

int PlanBuilder::NewBuffer(Buffer b) {
  plan_->buffers.push_back(std::move(b));
  return static_cast<int>(plan_->buffers.size()) - 1;
}

// A buffer holding `t`'s bytes (kept alive by the plan) seen through `md`.
int PlanBuilder::ConstantBuffer(const Tensor& t, const memory::desc& md) {
  Buffer b;
  b.kind = Kind::kConstant;
  b.md = md;
  b.source = t;
  b.constant = memory(md, Engine(), const_cast<void*>(t.raw_data()));
  return NewBuffer(std::move(b));
}

const Tensor* PlanBuilder::Constant(const std::string& name) const {
  auto it = constants_.find(name);
  if (it != constants_.end()) return &it->second;
  auto dq = dequantized_.find(name);
  return dq == dequantized_.end() ? nullptr : &dq->second;
}

const PlanBuilder::Value& PlanBuilder::Get(const std::string& name) {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second;
  const Tensor* c = Constant(name);
  if (!c) throw NotMapped("value " + name + " is not available");
  if (c->dtype() != DataType::kFloat32) throw NotMapped("constant " + name + " is not float");
  return values_[name] = {c->shape(), ConstantBuffer(*c, PlainDesc(c->shape()))};
}

// By value: buffers grow while a node compiles, so references into them would dangle.
memory::desc PlanBuilder::DescOf(int buffer) const { return plan_->buffers[buffer].md; }

// The buffer holding `name` in layout `md`, reordering (once per layout) when needed.
int PlanBuilder::In(const std::string& name, const memory::desc& md) {
  return Convert(Get(name).buffer, md);
}

// `buffer` in layout `md`: itself, or a reordered copy made once per layout.
int PlanBuilder::Convert(int buffer, const memory::desc& md) {
  if (DescOf(buffer) == md) return buffer;
  auto key =
      std::make_pair(buffer, std::string(reinterpret_cast<const char*>(&md.data), sizeof(md.data)));
  auto it = converted_.find(key);
  if (it != converted_.end()) return it->second;
  int b;
  const Buffer& src = plan_->buffers[buffer];
  if (src.kind == Kind::kConstant) {  // constants are reordered once, now
    Buffer packed;
    packed.kind = Kind::kConstant;
    packed.md = md;
    packed.packed = PackWeights(src.source, src.md, md);
    packed.constant = packed.packed->memory;
    b = NewBuffer(std::move(packed));
  } else {
    Buffer tmp;
    tmp.md = md;
    b = NewBuffer(std::move(tmp));
    // The same integers in another layout mean what they meant.
    const Quant* q = QuantOf(buffer);
    if (q && md.data_type() != memory::data_type::f32) quant_[b] = *q;
    AddReorder(buffer, b);
  }
  converted_[key] = b;
  return b;
}

int PlanBuilder::Out(const std::string& name, const Shape& shape, const memory::desc& md) {
  Buffer b;
  b.md = md;
  const int id = NewBuffer(std::move(b));
  values_[name] = {shape, id};
  return id;
}

// A weight constant seen through `md` (its ONNX layout), packed into `packed_md`.
int PlanBuilder::PackedConstant(const std::string& name, const memory::desc& md,
                                const memory::desc& packed_md) {
  const Tensor* c = Constant(name);
  if (!c || c->dtype() != DataType::kFloat32) throw NotMapped("weight " + name);
  if (static_cast<size_t>(c->nbytes()) != md.get_size())
    throw NotMapped("weight " + name + " has an unexpected size");
  Buffer b;
  b.kind = Kind::kConstant;
  b.md = packed_md;
  b.packed = PackWeights(*c, md, packed_md);
  b.constant = b.packed->memory;
  return NewBuffer(std::move(b));
}

int PlanBuilder::ConstantVector(const std::string& name, int64_t expected) {
  const Tensor* c = Constant(name);
  if (!c || c->dtype() != DataType::kFloat32 || c->numel() != expected)
    throw NotMapped("constant " + name + " must be float[" + std::to_string(expected) + "]");
  return ConstantBuffer(*c, memory::desc({expected}, kF32, FormatTag::a));
}

void PlanBuilder::AddStep(dnnl::primitive p, std::vector<std::pair<int, int>> args, size_t scratch,
                          std::vector<std::pair<int, memory::desc>> views) {
  plan_->scratch_bytes = std::max(plan_->scratch_bytes, scratch);
  plan_->steps.push_back({std::move(p), nullptr, std::move(args), std::move(views), {}, {}});
}

void PlanBuilder::AddHostStep(Region::Plan::HostFn fn, std::vector<std::pair<int, int>> args) {
  plan_->steps.push_back({dnnl::primitive(), std::move(fn), std::move(args), {}, {}, {}});
}

// Copies `from` into `to`'s layout; between quantized and real numbers (or two
// quantizations) it rescales on the way: to = from_scale / to_scale * (from - from_zero) +
// to_zero, rounded half to even and saturated as QuantizeLinear does.
void PlanBuilder::AddReorder(int from, int to) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const Quant* qf = QuantOf(from);
  const Quant* qt = QuantOf(to);
  if (qf || qt) {
    const Quant a = qf ? *qf : Quant{}, b = qt ? *qt : Quant{};
    if (!a.channel.empty() || !b.channel.empty()) {  // a scale per channel (axis 1)
      const size_t channels = std::max(a.channel.size(), b.channel.size());
      std::vector<float> scales(channels);
      for (size_t c = 0; c < channels; ++c) scales[c] = a.ScaleOf(c) / b.ScaleOf(c);
      attr.set_output_scales(1 << 1, scales);
    } else if (a.scale != b.scale) {
      attr.set_output_scales(0, {a.scale / b.scale});
    }
    if (a.zero != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {a.zero});
    if (b.zero != 0) attr.set_zero_points(DNNL_ARG_DST, 0, {b.zero});
  }
  dnnl::reorder::primitive_desc pd(Engine(), DescOf(from), Engine(), DescOf(to), attr);
  AddStep(dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}},
          pd.scratchpad_desc().get_size());
}

dnnl::primitive_attr PlanBuilder::Attr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// `buffer`'s bytes seen through `md`: a constant wraps the same data again, anything else
// becomes an alias that ExecutePlan points at its root's memory.
int PlanBuilder::Alias(int buffer, const memory::desc& md) {
  const Buffer& src = plan_->buffers[buffer];
  if (src.kind == Kind::kConstant) {
    if (!src.source.defined()) throw NotMapped("a packed constant seen through another layout");
    return ConstantBuffer(src.source, md);
  }
  Buffer b;
  b.kind = Kind::kAlias;
  b.md = md;
  b.alias = src.kind == Kind::kAlias ? src.alias : buffer;
  const int id = NewBuffer(std::move(b));
  if (const Quant* q = QuantOf(buffer)) quant_[id] = *q;
  return id;
}

// Whether a primitive computing nodes_ up to `last_node` from `src` may write its result over
// `name`'s buffer (laid out as `md`): a temporary of the region that no later node and
// nothing after the region reads, that no Transpose sees, and that is not `src` itself.
bool PlanBuilder::Overwritable(const std::string& name, const memory::desc& md, int src,
                               size_t last_node) {
  const auto v = values_.find(name);
  if (v == values_.end() || outputs_.count(name)) return false;
  const int b = v->second.buffer;
  const Buffer& buf = plan_->buffers[b];
  if (buf.kind != Kind::kTemp || !(buf.md == md) || b == src) return false;
  if (plan_->buffers[src].kind == Kind::kAlias && plan_->buffers[src].alias == b) return false;
  const auto last = last_read_.find(name);
  if (last != last_read_.end() && last->second > last_node) return false;
  for (const Buffer& other : plan_->buffers)
    if (other.kind == Kind::kAlias && other.alias == b) return false;
  // Copies of the old contents in other layouts must not be handed out for the new ones.
  std::erase_if(converted_,
                [b](const auto& entry) { return entry.first.first == b || entry.second == b; });
  return true;
}

// The named layout `md` has, among those oneDNN picks for activations.
std::optional<FormatTag> PlanBuilder::TagOf(const memory::desc& md) {
  using F = FormatTag;
  static const std::vector<F> kTags[] = {{F::abc, F::acb, F::aBc16b, F::aBc8b, F::aBc4b},
                                         {F::abcd, F::acdb, F::aBcd16b, F::aBcd8b, F::aBcd4b},
                                         {F::abcde, F::acdeb, F::aBcde16b, F::aBcde8b, F::aBcde4b}};
  const int nd = md.data.ndims;
  if (nd < 3 || nd > 5) return std::nullopt;
  for (F tag : kTags[nd - 3])
    if (memory::desc(md.dims(), md.data_type(), tag) == md) return tag;
  return std::nullopt;
}

// Temporaries live from the step that first touches them (or an alias of them) to the step
// that last does; their aliases come and go with them.
void PlanBuilder::ComputeLifetimes() {
  const std::vector<Buffer>& buffers = plan_->buffers;
  const size_t nb = buffers.size();
  auto root = [&](int b) { return buffers[b].kind == Kind::kAlias ? buffers[b].alias : b; };
  std::vector<int> first(nb, -1), last(nb, -1);
  for (size_t s = 0; s < plan_->steps.size(); ++s)
    for (const auto& [arg, b] : plan_->steps[s].args) {
      const int r = root(b);
      if (first[r] < 0) first[r] = static_cast<int>(s);
      last[r] = static_cast<int>(s);
    }
  std::vector<std::vector<int>> aliases(nb);
  for (size_t b = 0; b < nb; ++b)
    if (buffers[b].kind == Kind::kAlias) aliases[buffers[b].alias].push_back(static_cast<int>(b));
  for (size_t b = 0; b < nb; ++b) {
    if (buffers[b].kind != Kind::kTemp || first[b] < 0) continue;
    std::vector<int>& allocate = plan_->steps[first[b]].allocate;
    allocate.push_back(static_cast<int>(b));
    allocate.insert(allocate.end(), aliases[b].begin(), aliases[b].end());
    plan_->steps[last[b]].release.push_back(static_cast<int>(b));
  }
}

// With `binary_residual` (the destination's layout, which must be concrete), a residual Add
// becomes a binary post-op reading the residual in that layout, anywhere in the chain.
PlanBuilder::Tail PlanBuilder::CollectTail(const std::string& first_output, const Shape& out,
                                           bool has_sum, dnnl::post_ops base,
                                           const memory::desc* binary_residual) {
  Tail t;
  t.post_ops = base;
  t.output = first_output;
  t.last_node = pos_;
  const size_t rank = out.size();
  // Long chains are rare in models and not safe in oneDNN 2.6: seven element-wise post-ops
  // on one convolution (two clips in a row among them) gave results 1e-2 off the reference.
  constexpr int kMaxPostOps = 4;
  for (size_t j = pos_ + 1; j < nodes_.size(); ++j) {
    if (t.post_ops.len() >= kMaxPostOps) break;
    const ir::Node& n = *nodes_[j];
    const std::string& cur = t.output;
    if (uses_[cur] != 1) break;
    const bool reads_cur = std::find(n.inputs.begin(), n.inputs.end(), cur) != n.inputs.end();
    // cur has one reader, so a node between that does not read it (a weight's
    // DequantizeLinear, another branch) does not depend on what the primitive absorbs.
    if (!reads_cur) continue;
    if (n.outputs.size() != 1 || n.outputs[0].empty()) break;
    const std::string& op = n.op_type;
    bool taken = false;
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
      if (n.inputs.size() != 2) break;
      const bool cur_first = n.inputs[0] == cur;
      const std::string& other = n.inputs[cur_first ? 1 : 0];
      if (other == cur) break;
      const Tensor* c = Constant(other);
      // A scalar or per-channel constant: a binary post-op reading it broadcast.
      if (c && c->dtype() == DataType::kFloat32 && c->rank() <= rank &&
          (c->numel() == 1 || c->numel() == out[1]) && (cur_first || op == "Add" || op == "Mul")) {
        // The constant's dims right-aligned to [N, C, spatial...] must be 1 except C.
        Shape cs(rank - c->rank(), 1);
        cs.insert(cs.end(), c->shape().begin(), c->shape().end());
        bool broadcast = true;
        for (size_t i = 0; i < rank; ++i)
          if (cs[i] != 1 && i != 1) broadcast = false;
        if (!broadcast) break;
        using A = dnnl::algorithm;
        const A alg = op == "Add"   ? A::binary_add
                      : op == "Sub" ? A::binary_sub
                      : op == "Mul" ? A::binary_mul
                                    : A::binary_div;
        const memory::desc md(ToDims(cs), kF32, PlainTag(static_cast<int>(rank)));
        const int index = t.post_ops.len();
        t.post_ops.append_binary(alg, md);
        t.args.push_back(
            {DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1, ConstantBuffer(*c, md)});
        taken = true;
      } else if (!c && op == "Add" && binary_residual) {
        auto v = values_.find(other);
        if (v == values_.end() || v->second.shape != out || v->second.integer) break;
        AddResidual(other, *binary_residual, &t.post_ops, &t.args);
        taken = true;
      } else if (!c && op == "Add" && !has_sum && t.sum_value.empty() && t.post_ops.len() == 0) {
        // A residual: sum adds dst's contents, so it must come before any other post-op.
        auto v = values_.find(other);
        if (v == values_.end() || v->second.shape != out) break;
        t.post_ops.append_sum(1.f);
        t.sum_value = other;
        taken = true;
      }
    } else if (n.inputs[0] == cur && n.NumInputs() >= 1) {
      const std::optional<std::vector<Eltwise>> steps = EltwiseOf(graph_, n);
      if (!steps || (HardSwishPostOpBroken() && HasHardSwish(*steps))) break;
      // An algorithm once in a chain (HasEltwise). (post_ops is a handle: a copy to try the
      // steps on would append to the chain itself.)
      bool repeats = false;
      for (size_t i = 0; i < steps->size(); ++i) {
        const dnnl::algorithm alg = (*steps)[i].alg;
        repeats = repeats || HasEltwise(t.post_ops, alg) ||
                  std::any_of(steps->begin(), steps->begin() + static_cast<std::ptrdiff_t>(i),
                              [&](const Eltwise& e) { return e.alg == alg; });
      }
      if (repeats) break;
      for (const Eltwise& e : *steps) t.post_ops.append_eltwise(1.f, e.alg, e.alpha, e.beta);
      taken = !steps->empty();
    }
    if (!taken) break;
    absorbed_.insert(j);
    t.output = n.outputs[0];
    t.last_node = j;
  }
  return t;
}

// Appends `residual` (a value of the primitive's output shape) as a binary add post-op read
// in `layout` as float. (A quantized residual's integers as a u8 operand, dequantized by
// linear post-ops around the add, came out saturated from oneDNN 2.6's int8 convolution.)
void PlanBuilder::AddResidual(const std::string& residual, const memory::desc& layout,
                              dnnl::post_ops* po, std::vector<std::pair<int, int>>* args) {
  const memory::desc md = Retyped(layout, kF32);
  const int index = po->len();
  po->append_binary(dnnl::algorithm::binary_add, md);
  args->push_back(
      {DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1, Convert(Get(residual).buffer, md)});
}

const PlanBuilder::Quant* PlanBuilder::QuantOf(int buffer) const {
  auto it = quant_.find(buffer);
  return it == quant_.end() ? nullptr : &it->second;
}

// `md` (plain or blocked) with elements of another type.
memory::desc PlanBuilder::Retyped(const memory::desc& md, memory::data_type type) {
  dnnl_memory_desc_t d = md.data;
  d.data_type = static_cast<dnnl_data_type_t>(type);
  return memory::desc(d);
}

DataType PlanBuilder::TensorType(memory::data_type type) {
  switch (type) {
    case memory::data_type::u8:
      return DataType::kUint8;
    case memory::data_type::s8:
      return DataType::kInt8;
    case memory::data_type::s32:
      return DataType::kInt32;
    default:
      return DataType::kFloat32;
  }
}

std::shared_ptr<const Region::Plan> BuildPlan(const ir::Graph& graph,
                                              const std::vector<const ir::Node*>& nodes,
                                              const std::vector<std::string>& inputs,
                                              const std::vector<std::string>& outputs,
                                              const std::map<std::string, Tensor>& constants,
                                              const std::vector<const Tensor*>& input_tensors,
                                              bool bf16) {
  auto plan = std::make_shared<Region::Plan>();
  try {
    PlanBuilder b(graph, nodes, outputs, constants, plan.get(), bf16);
    for (size_t i = 0; i < inputs.size(); ++i)
      b.AddInput(inputs[i], static_cast<int>(i), *input_tensors[i]);
    for (size_t k = 0; k < nodes.size(); ++k) {
      try {
        b.AddNodeAt(k);
      } catch (const std::exception& e) {
        throw NotMapped(nodes[k]->Label() + ": " + e.what());
      }
    }
    b.Finish(outputs);
  } catch (const std::exception& e) {  // NotMapped, dnnl::error, a bad shape access
    auto fallback = std::make_shared<Region::Plan>();
    fallback->reference = true;
    fallback->why = e.what();
    return fallback;
  }
  return plan;
}

Status ExecutePlan(const Region::Plan& plan, KernelContext& ctx) {
  const size_t nb = plan.buffers.size();
  std::vector<memory> mem(nb);
  std::vector<Tensor> temp(nb);
  try {
    for (size_t i = 0; i < nb; ++i) {
      const Buffer& b = plan.buffers[i];
      if (b.kind == Kind::kInput) {
        mem[i] = memory(b.md, Engine(), const_cast<void*>(ctx.input(b.index)->raw_data()));
      } else if (b.kind == Kind::kOutput) {
        Tensor& t = ctx.Output(b.index, PlanBuilder::TensorType(b.md.data_type()), b.shape);
        mem[i] = memory(b.md, Engine(), t.raw_data());
      } else if (b.kind == Kind::kConstant) {
        mem[i] = b.constant;
      }
    }
    for (size_t i = 0; i < nb; ++i) {  // aliases of what exists from the start
      const Buffer& b = plan.buffers[i];
      if (b.kind == Kind::kAlias && plan.buffers[b.alias].kind != Kind::kTemp)
        mem[i] = memory(b.md, Engine(), mem[b.alias].get_data_handle());
    }
    Tensor scratch;
    memory scratch_mem;
    if (plan.scratch_bytes > 0) {
      scratch =
          Tensor(DataType::kUint8, {static_cast<int64_t>(plan.scratch_bytes)}, ctx.allocator());
      scratch_mem =
          memory({{static_cast<int64_t>(plan.scratch_bytes)}, memory::data_type::u8, FormatTag::a},
                 Engine(), scratch.raw_data());
    }
    dnnl::stream stream(Engine());
    std::unordered_map<int, memory> args;
    for (const Region::Plan::Step& st : plan.steps) {
      for (int b : st.allocate) {
        const Buffer& buf = plan.buffers[b];
        if (buf.kind == Kind::kAlias) {  // listed after its root
          mem[b] = memory(buf.md, Engine(), mem[buf.alias].get_data_handle());
          continue;
        }
        temp[b] =
            Tensor(DataType::kUint8, {static_cast<int64_t>(buf.md.get_size())}, ctx.allocator());
        mem[b] = memory(buf.md, Engine(), temp[b].raw_data());
      }
      args.clear();
      for (const auto& [arg, b] : st.args) args.emplace(arg, mem[b]);
      for (const auto& [arg, md] : st.views)
        args[arg] = memory(md, Engine(), args.at(arg).get_data_handle());
      if (plan.scratch_bytes > 0) args.emplace(DNNL_ARG_SCRATCHPAD, scratch_mem);
      if (st.host) {
        st.host(args, ctx.num_threads);
      } else {
        st.primitive.execute(stream, args);
      }
      for (int b : st.release) {
        mem[b] = memory();
        temp[b] = Tensor();
      }
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    return Status::Internal(ctx.node.Label() + ": oneDNN: " + e.what());
  }
  return Status::Ok();
}

}  // namespace supernova::cpu::dnnl_ops
