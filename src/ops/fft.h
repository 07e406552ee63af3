// The discrete Fourier transform of complex sequences of any length, for DFT and STFT.
//
//   const FftPlan plan(n);                              // once per length: its tables
//   std::vector<Complex> scratch(plan.scratch_size());  // one per thread
//   plan.Transform(data, /*inverse=*/false, scratch.data());  // n values in place
//
// Powers of two run an iterative radix-2 Cooley-Tukey FFT, O(n log n). Other lengths below
// kDirectBelow run the plain O(n^2) sum over a table of the n roots of unity: there it costs
// less than a padded FFT would. Longer ones run Bluestein's algorithm, the DFT rewritten as a
// convolution with a chirp and done by radix-2 FFTs of a power of two >= 2n-1: O(n log n) for
// every length, primes included. The arithmetic is double whatever the tensors hold, so a
// float32 result carries no error of the transform that float32 itself can show.
#pragma once

#include <omp.h>

#include <algorithm>
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace supernova::ops {

using Complex = std::complex<double>;

class FftPlan {
 public:
  enum class Method { kRadix2, kDirect, kBluestein };
  // Lengths that are no power of two and shorter than this are summed directly: measured,
  // the sum beats Bluestein's three padded FFTs up to about 45 points.
  static constexpr int64_t kDirectBelow = 48;

  // n >= 1.
  explicit FftPlan(int64_t n);
  ~FftPlan();

  int64_t size() const { return n_; }
  Method method() const { return method_; }
  // Complex values of scratch that Transform needs.
  size_t scratch_size() const;

  // Replaces data[0, n) by its transform, unnormalised: the forward one sums with
  // e^{-2 pi i kn/N}, the inverse with e^{+2 pi i kn/N} (the caller divides by N).
  // Thread-safe: the plan is only read; each thread brings its own scratch.
  void Transform(Complex* data, bool inverse, Complex* scratch) const;

 private:
  void Radix2(Complex* data, bool inverse) const;
  void Direct(Complex* data, bool inverse, Complex* scratch) const;
  void Bluestein(Complex* data, bool inverse, Complex* scratch) const;

  int64_t n_;
  Method method_;
  // Radix-2: e^{-2 pi i k/n} for k < n/2. Direct: the same for k < n.
  std::vector<Complex> roots_;
  // Bluestein: the chirp e^{-pi i k^2/n} for k < n, the transform (length m) of its
  // conjugate laid out for a circular convolution, and the radix-2 plan of length m.
  std::vector<Complex> chirp_;
  std::vector<Complex> kernel_;
  std::unique_ptr<FftPlan> inner_;
};

// Transforms `rows` sequences of the plan's length, spread over up to num_threads threads:
// load(r, data) writes row r's n values into data, store(r, data) reads its transform back.
// Every buffer is allocated before the threads start, where running out of memory is a
// bad_alloc the session reports (thrown inside an OpenMP region it would end the process).
template <typename Load, typename Store>
void TransformRows(const FftPlan& plan, int64_t rows, bool inverse, int num_threads, Load&& load,
                   Store&& store) {
  const int64_t n = plan.size(), per = n + static_cast<int64_t>(plan.scratch_size());
  const int threads =
      rows > 1 && rows * n > 16384 ? static_cast<int>(std::min<int64_t>(num_threads, rows)) : 1;
  std::vector<Complex> work(static_cast<size_t>(per * std::max(threads, 1)));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    Complex* data = work.data() + per * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      load(r, data);
      plan.Transform(data, inverse, data + n);
      store(r, data);
    }
  }
}

}  // namespace supernova::ops
