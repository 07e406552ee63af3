// peak_gflops [--threads N] [--size S] [--repeats R]: the machine's practical f32 peak, as the
// best of R timed oneDNN sgemm calls of S x S x S (2 * S^3 FLOP each) on N OpenMP threads.
// Prints one JSON object: {"threads", "size", "gflops", "best_ms"}. The benchmark reports
// each model's achieved GFLOP/s against this figure.
#include <dnnl.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"f32 GEMM peak with oneDNN"};
  int threads = 1;
  int64_t size = 2048;
  int repeats = 10;
  app.add_option("--threads", threads, "OpenMP threads (default 1)");
  app.add_option("--size", size, "M = N = K (default 2048)");
  app.add_option("--repeats", repeats, "timed calls; the best counts (default 10)");
  CLI11_PARSE(app, argc, argv);
  if (threads < 1 || size < 1 || repeats < 1) {
    std::fprintf(stderr, "peak_gflops: --threads, --size and --repeats must be positive\n");
    return 1;
  }
  omp_set_num_threads(threads);
  const size_t n = static_cast<size_t>(size) * static_cast<size_t>(size);
  std::vector<float> a(n), b(n), c(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(i % 17) / 17.0f;
    b[i] = static_cast<float>(i % 13) / 13.0f;
  }
  auto gemm = [&] {
    return dnnl_sgemm('N', 'N', size, size, size, 1.0f, a.data(), size, b.data(), size, 0.0f,
                      c.data(), size);
  };
  if (gemm() != dnnl_success) {  // warm-up: thread pool, code generation, page faults
    std::fprintf(stderr, "peak_gflops: dnnl_sgemm failed\n");
    return 1;
  }
  double best_ms = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm();
    best_ms = std::min(
        best_ms,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double flop =
      2.0 * static_cast<double>(size) * static_cast<double>(size) * static_cast<double>(size);
  nlohmann::json j;
  j["threads"] = threads;
  j["size"] = size;
  j["best_ms"] = best_ms;
  j["gflops"] = flop / 1e9 / (best_ms / 1000.0);
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
