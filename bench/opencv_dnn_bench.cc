// opencv_dnn_bench MODEL --threads N --batch B [--shape NAME=d0xd1x...] --iterations K
//                  [--warmup W] [--gflop G]
//
// `supernova bench` for OpenCV's DNN module (DNN_BACKEND_OPENCV on DNN_TARGET_CPU): the same
// flags, input rules and JSON keys (docs/benchmark.md). Exit codes: 1 usage error, 2 the model
// has a fixed batch other than --batch (not applicable), 3 OpenCV cannot load or run the model
// (a JSON object with "error" is still printed, for the report's "n/a (reason)").
// gflop is what --gflop passes (the count of `supernova bench` for the same model and shapes,
// so that every runtime is measured against the same work); OpenCV's own estimate is
// gflop_opencv.
#include <sys/wait.h>
#include <unistd.h>

#include <onnx/onnx_pb.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "ir/onnx_import.h"
#include "supernova/bench_util.h"

namespace bench = supernova::tools::bench;
using supernova::DataType;
using supernova::Shape;

namespace {

struct Args {
  std::string model;
  int threads = 0;
  int64_t batch = 1;
  std::vector<std::string> shapes;
  int iterations = 50;
  int warmup = 3;
  double gflop = -1;  // not given
};

struct InputSpec {
  std::string name;
  DataType dtype;
  Shape shape;
};

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "opencv_dnn_bench: error: %s\n", message.c_str());
  return code;
}

// OpenCV 4.6's importer rejects many models whose inputs have symbolic dims (a Shape node
// on a dynamic tensor: "dynamic 'zero' shapes are not supported"), though it runs them at a
// known size. Writes to `out` a copy of the model whose graph inputs declare the benchmarked
// shapes, and nothing else changed. Returns false when the file cannot be rewritten.
bool WriteWithFixedInputs(const std::string& model, const std::vector<std::string>& names,
                          const std::vector<Shape>& shapes, const std::string& out) {
  std::ifstream in(model, std::ios::binary);
  onnx::ModelProto proto;
  if (!in || !proto.ParseFromIstream(&in)) return false;
  for (const onnx::TensorProto& t : proto.graph().initializer())
    if (t.data_location() == onnx::TensorProto::EXTERNAL) return false;  // paths are relative
  for (onnx::ValueInfoProto& vi : *proto.mutable_graph()->mutable_input()) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (vi.name() != names[i] || !vi.type().has_tensor_type()) continue;
      onnx::TensorShapeProto* shape = vi.mutable_type()->mutable_tensor_type()->mutable_shape();
      shape->clear_dim();
      for (int64_t d : shapes[i]) shape->add_dim()->set_dim_value(d);
    }
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  return f && proto.SerializeToOstream(&f) && f.flush();
}

// The inputs' names, types and concrete shapes, by the rules `supernova bench` uses. The model
// is read with Supernova's importer in a child process, so that its memory never shows in this
// process's peak RSS. Where a dim is symbolic in the file, the child also writes the copy of
// WriteWithFixedInputs to `fixed_path` and sets *fixed. Returns 0 or the exit code, with the
// message in *error.
int ResolveInputs(const Args& args, const std::map<std::string, std::vector<int64_t>>& given,
                  const std::string& fixed_path, std::vector<InputSpec>* specs, bool* fixed,
                  std::string* error) {
  int fd[2];
  if (pipe(fd) != 0) {
    *error = "pipe failed";
    return 1;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed";
    return 1;
  }
  if (pid == 0) {
    close(fd[0]);
    nlohmann::json j;
    int code = 0;
    auto model = supernova::ir::ImportOnnxFile(args.model);
    if (!model.ok()) {
      j["error"] = model.status().ToString();
      code = 1;
    } else {
      const auto infos = bench::DeclaredInputs(model->graph);
      auto shapes = bench::ResolveInputShapes(infos, args.batch, given);
      if (!shapes.ok()) {
        j["error"] = shapes.status().message();
        code = shapes.status().code() == supernova::Status::Code::kFailedPrecondition ? 2 : 1;
      } else {
        bool symbolic = false;
        std::vector<std::string> names;
        for (size_t i = 0; i < infos.size(); ++i) {
          j["inputs"].push_back({{"name", infos[i].name},
                                 {"dtype", static_cast<int>(infos[i].dtype)},
                                 {"shape", (*shapes)[i]}});
          names.push_back(infos[i].name);
          symbolic = symbolic || !infos[i].rank_known ||
                     std::any_of(infos[i].dims.begin(), infos[i].dims.end(),
                                 [](int64_t d) { return d < 0; });
        }
        j["fixed"] = symbolic && WriteWithFixedInputs(args.model, names, *shapes, fixed_path);
      }
    }
    const std::string text = j.dump();
    size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = write(fd[1], text.data() + off, text.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd[1]);
    _exit(code);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (code != 0 || j.is_discarded() || !j.contains("inputs")) {
    *error = j.is_discarded() || !j.contains("error") ? "cannot read the model's inputs"
                                                      : j["error"].get<std::string>();
    return code != 0 ? code : 1;
  }
  *fixed = j.value("fixed", false);
  for (const auto& in : j["inputs"])
    specs->push_back({in["name"].get<std::string>(), static_cast<DataType>(in["dtype"].get<int>()),
                      in["shape"].get<Shape>()});
  return 0;
}

// One line of an OpenCV error, short enough for a table cell.
std::string Reason(const std::string& what) {
  std::string s = what;
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s.size() > 240 ? s.substr(0, 240) + "..." : s;
}

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int Bench(const Args& args) {
  if (args.iterations < 1) return Fail("--iterations must be at least 1");
  if (args.warmup < 0) return Fail("--warmup must be >= 0");
  if (args.threads < 0) return Fail("--threads must be >= 0 (0: OpenCV's default)");
  auto shape_flags = bench::ParseShapeFlags(args.shapes);
  if (!shape_flags.ok()) return Fail(shape_flags.status().message());
  const std::map<std::string, std::vector<int64_t>>& given = *shape_flags;
  std::vector<InputSpec> specs;
  std::string error;
  bool fixed = false;
  const std::string fixed_path = (std::filesystem::temp_directory_path() /
                                  ("opencv_dnn_bench_" + std::to_string(getpid()) + ".onnx"))
                                     .string();
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() { std::remove(path.c_str()); }
  } remove_fixed{fixed_path};
  if (int code = ResolveInputs(args, given, fixed_path, &specs, &fixed, &error); code != 0)
    return Fail(error, code);

  nlohmann::json j;
  j["runtime"] = "opencv_dnn";
  j["model"] = args.model;
  j["batch"] = args.batch;
  j["iterations"] = args.iterations;
  j["warmup"] = args.warmup;
  nlohmann::json shapes_json = nlohmann::json::object();
  for (const InputSpec& s : specs) shapes_json[s.name] = s.shape;
  j["shapes"] = shapes_json;
  j["version"] = CV_VERSION;
  try {
    if (args.threads > 0) cv::setNumThreads(args.threads);
    j["threads"] = cv::getNumThreads();

    const Clock::time_point t_open = Clock::now();
    cv::dnn::Net net = cv::dnn::readNetFromONNX(fixed ? fixed_path : args.model);
    j["input_dims_fixed"] = fixed;
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const double open_ms = MsSince(t_open);

    std::mt19937 rng(bench::kInputSeed);
    std::vector<cv::Mat> blobs;
    std::vector<cv::dnn::MatShape> mat_shapes;
    for (const InputSpec& s : specs) {
      std::vector<int> sizes(s.shape.begin(), s.shape.end());
      if (s.dtype == DataType::kFloat32 || s.dtype == DataType::kUndefined) {
        auto t = bench::RandomInput(DataType::kFloat32, s.shape, rng);
        if (!t.ok()) return Fail(t.status().message());
        cv::Mat m(static_cast<int>(sizes.size()), sizes.data(), CV_32F);
        std::memcpy(m.ptr(), t->raw_data(), t->nbytes());
        blobs.push_back(m);
      } else {  // OpenCV's DNN takes integer inputs as int32: zeros, as the others feed
        blobs.push_back(cv::Mat::zeros(static_cast<int>(sizes.size()), sizes.data(), CV_32S));
      }
      mat_shapes.push_back(cv::dnn::MatShape(sizes.begin(), sizes.end()));
    }
    const std::vector<cv::String> out_names = net.getUnconnectedOutLayersNames();
    std::vector<cv::Mat> outs;
    auto run = [&] {
      for (size_t i = 0; i < specs.size(); ++i) net.setInput(blobs[i], specs[i].name);
      net.forward(outs, out_names);
    };

    const Clock::time_point t_first = Clock::now();
    run();
    const double first_run_ms = MsSince(t_first);
    for (int i = 0; i < args.warmup; ++i) run();
    std::vector<double> times;
    for (int i = 0; i < args.iterations; ++i) {
      const Clock::time_point t0 = Clock::now();
      run();
      times.push_back(MsSince(t0));
    }
    const double peak_rss_mb = bench::PeakRssMb();
    const bench::LatencyStats st = bench::Summarize(times);
    j["median_ms"] = st.median_ms;
    j["p90_ms"] = st.p90_ms;
    j["mean_ms"] = st.mean_ms;
    j["min_ms"] = st.min_ms;
    j["max_ms"] = st.max_ms;
    j["throughput_per_s"] = static_cast<double>(args.batch) * 1000.0 / st.median_ms;
    j["gflop"] = nullptr;
    j["gflops_achieved"] = nullptr;
    if (args.gflop >= 0) {
      j["gflop"] = args.gflop;
      j["gflops_achieved"] = args.gflop / (st.median_ms / 1000.0);
    }
    j["peak_rss_mb"] = peak_rss_mb;
    j["load_ms"] = open_ms + first_run_ms;
    j["open_ms"] = open_ms;
    j["first_run_ms"] = first_run_ms;
    // OpenCV's own estimate of its weight and intermediate blob bytes, and of the FLOPs.
    try {
      size_t weights = 0, blob_bytes = 0;
      net.getMemoryConsumption(mat_shapes, weights, blob_bytes);
      j["weights_mb"] = static_cast<double>(weights) / (1 << 20);
      j["arena_peak_mb"] = static_cast<double>(blob_bytes) / (1 << 20);
      j["gflop_opencv"] = static_cast<double>(net.getFLOPS(mat_shapes)) / 1e9;
    } catch (const cv::Exception&) {
      j["weights_mb"] = nullptr;
      j["arena_peak_mb"] = nullptr;
    }
  } catch (const cv::Exception& e) {
    j["error"] = Reason(e.err.empty() ? e.what() : e.err);
    std::printf("%s\n", j.dump().c_str());
    return 3;
  } catch (const std::exception& e) {
    j["error"] = Reason(e.what());
    std::printf("%s\n", j.dump().c_str());
    return 3;
  }
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"OpenCV DNN peer of `supernova bench`"};
  Args args;
  app.add_option("model", args.model, "ONNX model file")->required();
  app.add_option("--threads", args.threads, "cv::setNumThreads (0: OpenCV's default)");
  app.add_option("--batch", args.batch, "the first dim of inputs whose first dim is dynamic");
  app.add_option("--shape", args.shapes, "NAME=d0xd1x...; N stands for --batch");
  app.add_option("--iterations", args.iterations, "timed runs (default 50)");
  app.add_option("--warmup", args.warmup, "untimed runs after the first (default 3)");
  app.add_option("--gflop", args.gflop, "FLOPs per inference counted by `supernova bench`")
      ->check(CLI::NonNegativeNumber);
  std::string optimization = "all";
  std::vector<std::string> providers;
  app.add_option("--optimization", optimization, "accepted for the common command line; ignored");
  app.add_option("--providers", providers, "accepted for the common command line; ignored")
      ->delimiter(',');
  CLI11_PARSE(app, argc, argv);
  return Bench(args);
}
