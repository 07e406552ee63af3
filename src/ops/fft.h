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

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace supernova::ops {

using Complex = std::complex<double>;

class FftPlan {
 public:
  enum class Method { kRadix2, kDirect, kBluestein };
  // Lengths that are no power of two and shorter than this are summed directly.
  static constexpr int64_t kDirectBelow = 64;

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

}  // namespace supernova::ops
