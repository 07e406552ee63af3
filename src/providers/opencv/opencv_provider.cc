#include "providers/opencv/opencv_provider.h"

#include <opencv2/core.hpp>
#include <opencv2/core/ocl.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_set>

#include "ir/onnx_import.h"
#include "providers/cpu/cpu_provider.h"

namespace supernova::providers::opencv {

namespace {

// The ops handed to OpenCV's ONNX importer (OpenCV 4.6, Debian 12), each checked against the
// reference kernels by the cross-provider tests. Single-output ops only: OpenCV names a
// layer's outputs after its first one, and the piece must find every output by name.
const std::set<std::string, std::less<>>& Ops() {
  static const std::set<std::string, std::less<>> ops = {"Conv",
                                                         "ConvTranspose",
                                                         "MaxPool",
                                                         "AveragePool",
                                                         "GlobalAveragePool",
                                                         "GlobalMaxPool",
                                                         "Relu",
                                                         "LeakyRelu",
                                                         "Sigmoid",
                                                         "Tanh",
                                                         "Elu",
                                                         "Clip",
                                                         "Softmax",
                                                         "BatchNormalization",
                                                         "Gemm",
                                                         "MatMul",
                                                         "Add",
                                                         "Sub",
                                                         "Mul",
                                                         "Div",
                                                         "Concat",
                                                         "Flatten",
                                                         "Reshape",
                                                         "Transpose",
                                                         "Abs",
                                                         "Exp",
                                                         "Sqrt",
                                                         "HardSwish",
                                                         "LRN",
                                                         "Neg"};
  return ops;
}

// Inputs that must be constants for OpenCV to import the node.
bool NeedsConstant(const std::string& op, size_t input) {
  if (op == "Conv" || op == "ConvTranspose") return input >= 1;
  if (op == "BatchNormalization") return input >= 1;
  if (op == "Gemm") return input >= 1;
  if (op == "Reshape") return input == 1;
  if (op == "Clip") return input >= 1;
  return false;
}

// Whether two dims are the same for every input: equal sizes, or one name for an unknown size.
// Two unknown sizes without names may differ (an attention mask's [B,1,T] against [B,T,T],
// with every size unknown to shape inference).
bool SameDim(const ir::Dim& a, const ir::Dim& b) {
  return a.known() ? a == b : !a.symbol.empty() && a == b;
}

// An element-wise op of two computed tensors whose sizes are not all known: OpenCV 4.6 takes
// equal shapes, and a per-channel factor ([N,C,H,W] with [N,C,1,1], a squeeze-excite gate);
// other broadcasts it refuses only when it runs (an attention mask's [B,T,T] with [B,1,T]),
// too late for the cpu to take the piece from oneDNN, so they are declined here. Shapes known
// in full are tried on zeros when the piece compiles.
Support CheckBroadcast(const ir::Graph& g, const ir::Node& n) {
  if (n.inputs.size() != 2 || g.IsInitializer(n.inputs[0]) || g.IsInitializer(n.inputs[1]))
    return Support::Yes();
  const ir::ValueType* ta = g.TypeOf(n.inputs[0]);
  const ir::ValueType* tb = g.TypeOf(n.inputs[1]);
  if (!ta || !tb || !ta->dims || !tb->dims) return Support::No("operand shapes unknown");
  if (ta->HasStaticShape() && tb->HasStaticShape()) return Support::Yes();
  const std::vector<ir::Dim>& a = *ta->dims;
  const std::vector<ir::Dim>& b = *tb->dims;
  if (a.size() != b.size()) return Support::No("broadcast across ranks of unknown sizes");
  bool same = true;
  for (size_t i = 0; i < a.size(); ++i) same = same && SameDim(a[i], b[i]);
  if (same) return Support::Yes();
  auto gate = [](const std::vector<ir::Dim>& x, const std::vector<ir::Dim>& s) {
    return x.size() == 4 && SameDim(x[0], s[0]) && SameDim(x[1], s[1]) && s[2].value == 1 &&
           s[3].value == 1;
  };
  if (gate(a, b) || gate(b, a)) return Support::Yes();
  return Support::No("broadcast of unknown sizes other than a per-channel factor");
}

Support CheckValue(const ir::Graph& g, const std::string& v, bool is_output) {
  if (g.IsInitializer(v)) return Support::Yes();
  const ir::ValueType* t = g.TypeOf(v);
  if (!t || t->dtype == DataType::kUndefined) return Support::No("type of " + v + " unknown");
  if (t->dtype != DataType::kFloat32) return Support::No("dtype " + DataTypeName(t->dtype));
  if (!t->dims) return Support::No("rank of " + v + " unknown");
  // OpenCV's blobs are 2-D to 4-D here: rank 1 or 5 would be reshaped behind our back.
  if (t->dims->size() < 2 || t->dims->size() > 4)
    return Support::No(std::string(is_output ? "output" : "input") + " rank " +
                       std::to_string(t->dims->size()));
  return Support::Yes();
}

class OpenCvPiece final : public CompiledPiece {
 public:
  OpenCvPiece(cv::dnn::Net net, const Piece& piece, std::unique_ptr<CompiledPiece> fallback)
      : net_(std::move(net)), inputs_(piece.inputs), fallback_(std::move(fallback)) {
    for (const auto& o : piece.outputs) outputs_.push_back(o);
  }

  // OpenCV checks many layer parameters only when it first sees a shape. Input shapes it
  // rejects run on the reference kernels instead (and are remembered, so OpenCV is not asked
  // again), so a model that runs on the cpu never fails on this provider.
  Status Run(const RunContext& ctx, std::span<const Tensor* const> inputs,
             std::vector<Tensor>* outputs) const override {
    if (inputs.size() != inputs_.size())
      return Status::Internal("opencv piece: wrong number of inputs");
    std::vector<Shape> shapes;
    for (const Tensor* t : inputs) shapes.push_back(t->shape());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!rejected_.count(shapes)) {
        Status s = RunOpenCv(inputs, outputs);
        if (s.ok()) return s;
        rejected_.insert(shapes);
        std::fprintf(stderr,
                     "supernova: opencv rejected a piece for these input shapes (%s); it runs "
                     "on the cpu reference kernels\n",
                     s.message().c_str());
      }
    }
    return fallback_->Run(ctx, inputs, outputs);
  }

  // Runs OpenCV alone, without the fallback (the compile-time trial).
  Status RunOpenCv(std::span<const Tensor* const> inputs, std::vector<Tensor>* outputs) const {
    // cv::dnn::Net keeps per-run state in the object: one run at a time (callers hold mu_, or
    // own the piece exclusively while compiling).
    try {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& t = *inputs[i];
        std::vector<int> sizes(t.shape().begin(), t.shape().end());
        // setInput copies the blob, so wrapping the caller's memory is safe.
        cv::Mat m(static_cast<int>(sizes.size()), sizes.data(), CV_32F,
                  const_cast<void*>(t.raw_data()));
        net_.setInput(m, inputs_[i]);
      }
      std::vector<cv::Mat> outs;
      net_.forward(outs, outputs_);
      outputs->clear();
      for (const cv::Mat& m : outs) {
        Shape shape;
        for (int d = 0; d < m.dims; ++d) shape.push_back(m.size[d]);
        if (m.type() != CV_32F || !m.isContinuous())
          return Status::Internal("opencv piece: unexpected output blob");
        Tensor t(DataType::kFloat32, shape);
        if (t.nbytes()) std::memcpy(t.raw_data(), m.ptr<float>(), t.nbytes());
        outputs->push_back(std::move(t));
      }
    } catch (const cv::Exception& e) {
      return Status::Internal(std::string("opencv: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  mutable std::mutex mu_;
  mutable cv::dnn::Net net_;                       // GUARDED_BY(mu_)
  mutable std::set<std::vector<Shape>> rejected_;  // GUARDED_BY(mu_)
  std::vector<std::string> inputs_;
  std::vector<cv::String> outputs_;
  std::unique_ptr<CompiledPiece> fallback_;  // the cpu reference kernels
};

// OpenCV's ONNX importer logs an [ERROR] line for each node it cannot take, then throws. Here
// that refusal is a Status: the piece goes back to the cpu and the model runs, so the lines
// would only alarm. OpenCV's log level is global: it is lowered while a piece compiles and
// restored after, one compile at a time.
class QuietOpenCv {
 public:
  QuietOpenCv()
      : lock_(Mutex()),
        previous_(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
  ~QuietOpenCv() { cv::utils::logging::setLogLevel(previous_); }
  QuietOpenCv(const QuietOpenCv&) = delete;
  QuietOpenCv& operator=(const QuietOpenCv&) = delete;

 private:
  static std::mutex& Mutex() {
    static std::mutex mu;
    return mu;
  }
  std::lock_guard<std::mutex> lock_;
  cv::utils::logging::LogLevel previous_;
};

class OpenCvProvider final : public ExecutionProvider {
 public:
  // OpenCV's thread count is process-wide (cv::setNumThreads), so the provider leaves it to
  // OpenCV rather than letting one session change it for all.
  OpenCvProvider() = default;

  std::string_view name() const override { return "opencv"; }
  Device device() const override { return {}; }  // OpenCV's CPU backend: host memory

  Support Supports(const ir::Graph& g, const ir::Node& n) const override {
    if (!n.domain.empty() && n.domain != "ai.onnx") return Support::No("domain " + n.domain);
    if (!Ops().count(n.op_type)) return Support::No("op " + n.op_type);
    if (n.outputs.size() != 1) return Support::No("more than one output");
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const std::string& v = n.inputs[i];
      if (v.empty()) continue;
      if (NeedsConstant(n.op_type, i) && !g.IsInitializer(v))
        return Support::No("input " + std::to_string(i) + " not constant");
      if (Support s = CheckValue(g, v, false); !s.ok) return s;
    }
    if (Support s = CheckValue(g, n.outputs[0], true); !s.ok) return s;
    if (n.op_type == "Add" || n.op_type == "Sub" || n.op_type == "Mul" || n.op_type == "Div")
      if (Support s = CheckBroadcast(g, n); !s.ok) return s;
    if (n.op_type == "Conv" || n.op_type == "ConvTranspose" || n.op_type == "MaxPool" ||
        n.op_type == "AveragePool") {
      const std::string pad = n.AttrString("auto_pad", "NOTSET");
      if (pad != "NOTSET" && pad != "VALID") return Support::No("auto_pad " + pad);
    }
    if (n.op_type == "ConvTranspose" && n.HasAttr("output_shape"))
      return Support::No("ConvTranspose output_shape");
    // Limits found by the cross-provider tests, where OpenCV 4.6 computes something else.
    if (n.op_type == "Gemm" && (n.AttrInt("transA", 0) != 0 || n.AttrInt("transB", 0) != 1 ||
                                n.AttrFloat("alpha", 1) != 1 || n.AttrFloat("beta", 1) != 1))
      return Support::No("Gemm other than a fully connected layer (transB=1, alpha=beta=1)");
    if (n.op_type == "Clip" && n.NumInputs() > 1)
      return Support::No("Clip bounds as inputs (OpenCV reads the attributes only)");
    if (n.op_type == "MatMul") {
      const ir::ValueType* a = g.TypeOf(n.inputs[0]);
      const ir::ValueType* b = g.TypeOf(n.inputs[1]);
      if (!g.IsInitializer(n.inputs[1]) &&
          (!a || !b || !a->dims || !b->dims || a->dims->size() != b->dims->size()))
        return Support::No("MatMul broadcasting batch dims");
    }
    if (n.op_type == "Softmax") {
      // OpenCV 4.6 takes the default axis as 1 whatever the opset; from opset 13 it is -1.
      const ir::ValueType* t = g.TypeOf(n.inputs[0]);
      const int64_t rank = t && t->dims ? static_cast<int64_t>(t->dims->size()) : -1;
      const int64_t axis = n.AttrInt("axis", g.Opset() >= 13 ? -1 : 1);
      if (!n.HasAttr("axis") && rank != 2 && !(g.Opset() < 13 && axis == 1))
        return Support::No("Softmax default axis (OpenCV assumes 1)");
      if (g.Opset() >= 13 && axis != -1 && axis != rank - 1)
        return Support::No("Softmax on an inner axis");
    }
    return Support::Yes();
  }

  Result<std::unique_ptr<CompiledPiece>> Compile(const Piece& piece) const override {
    // The piece as a model of its own: its inputs with their types, the constants it reads,
    // its outputs.
    ir::Model m;
    ir::Graph& g = m.graph;
    g.name = "piece";
    g.opsets = piece.graph->opsets;
    std::unordered_set<std::string> constants;
    for (const ir::Node* n : piece.nodes) {
      g.nodes.push_back(*n);
      // ONNX lets kernel_shape follow from the weights; OpenCV requires the attribute.
      ir::Node& copy = g.nodes.back();
      if ((copy.op_type == "Conv" || copy.op_type == "ConvTranspose") &&
          !copy.HasAttr("kernel_shape") && copy.inputs.size() > 1 &&
          piece.graph->IsInitializer(copy.inputs[1])) {
        const Shape& w = piece.graph->initializers.at(copy.inputs[1]).shape();
        ir::Attribute k;
        k.kind = ir::Attribute::Kind::kInts;
        k.ints.assign(w.begin() + 2, w.end());
        copy.attributes["kernel_shape"] = k;
      }
      for (const std::string& v : n->inputs)
        if (piece.graph->IsInitializer(v) && constants.insert(v).second)
          g.initializers[v] = piece.graph->initializers.at(v);
    }
    // OpenCV 4.6 reads an unknown dim without a name as 0, and a broadcast against it fails
    // (PP-OCR's squeeze-excite multiplies, whose height and width follow from strided
    // convolutions of a dynamic input): each such dim gets a name of its own.
    int unnamed = 0;
    auto declare = [&](const std::string& v) {
      const ir::ValueType* t = piece.graph->TypeOf(v);
      if (!t) return;
      ir::ValueType named = *t;
      if (named.dims)
        for (ir::Dim& d : *named.dims)
          if (!d.known() && d.symbol.empty()) d.symbol = "unknown_" + std::to_string(unnamed++);
      g.value_types[v] = std::move(named);
    };
    for (const std::string& v : piece.inputs) {
      g.inputs.push_back(v);
      declare(v);
    }
    for (const std::string& v : piece.outputs) {
      g.outputs.push_back(v);
      declare(v);
    }
    m.metadata.ir_version = 8;
    m.metadata.producer_name = "supernova";
    SN_ASSIGN_OR_RETURN(std::string bytes, ir::ExportOnnxBytes(m));
    const QuietOpenCv quiet;
    try {
      cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
      if (net.empty()) return Status::Unimplemented("OpenCV made an empty network");
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::ocl::haveOpenCL() ? cv::dnn::DNN_TARGET_OPENCL
                                                    : cv::dnn::DNN_TARGET_CPU);
      SN_ASSIGN_OR_RETURN(auto reference, cpu::MakeCpuProvider({}, cpu::CpuKind::kReference));
      SN_ASSIGN_OR_RETURN(std::unique_ptr<CompiledPiece> fallback, reference->Compile(piece));
      auto compiled = std::make_unique<OpenCvPiece>(std::move(net), piece, std::move(fallback));
      // One run on zeros where the shapes are static: OpenCV checks most layer parameters only
      // when it first runs, and a piece it rejects must go back to the cpu now, not fail later.
      std::vector<Tensor> zeros;
      bool all_static = true;
      for (const std::string& v : piece.inputs) {
        const ir::ValueType* t = piece.graph->TypeOf(v);
        if (!t || !t->HasStaticShape()) {
          all_static = false;
          break;
        }
        Tensor z(DataType::kFloat32, t->StaticShape());
        if (z.nbytes()) std::memset(z.raw_data(), 0, z.nbytes());
        zeros.push_back(std::move(z));
      }
      if (all_static) {
        std::vector<const Tensor*> ptrs;
        for (const Tensor& z : zeros) ptrs.push_back(&z);
        std::vector<Tensor> outs;
        SN_RETURN_IF_ERROR(compiled->RunOpenCv(ptrs, &outs));
        for (size_t i = 0; i < outs.size(); ++i) {
          const ir::ValueType* t = piece.graph->TypeOf(piece.outputs[i]);
          if (t && t->HasStaticShape() && t->StaticShape() != outs[i].shape())
            return Status::Unimplemented("OpenCV gives " + piece.outputs[i] + " shape " +
                                         ShapeToString(outs[i].shape()) + ", the model " +
                                         ShapeToString(t->StaticShape()));
        }
      }
      return std::unique_ptr<CompiledPiece>(std::move(compiled));
    } catch (const cv::Exception& e) {
      return Status::Unimplemented(std::string("OpenCV: ") + e.err);
    }
  }
};

}  // namespace

Result<std::unique_ptr<ExecutionProvider>> MakeOpenCvProvider(const ProviderOptions&) {
  return std::unique_ptr<ExecutionProvider>(new OpenCvProvider());
}

}  // namespace supernova::providers::opencv
