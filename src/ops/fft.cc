#include "ops/fft.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

namespace supernova::ops {
namespace {

// std::complex's operator* guards against inf/nan by a library call per product (C99 Annex
// G); the transforms multiply finite twiddles and want the plain four products.
inline Complex Mul(Complex a, Complex b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// e^{-2 pi i k/n} for k < count, each from its own cos/sin: no error accumulates along k.
std::vector<Complex> Roots(int64_t n, int64_t count) {
  std::vector<Complex> r(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) {
    const double a = -2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
    r[static_cast<size_t>(k)] = {std::cos(a), std::sin(a)};
  }
  return r;
}

}  // namespace

FftPlan::FftPlan(int64_t n) : n_(n) {
  if (IsPowerOfTwo(n)) {
    method_ = Method::kRadix2;
    roots_ = Roots(n, n / 2);
  } else if (n < kDirectBelow) {
    method_ = Method::kDirect;
    roots_ = Roots(n, n);
  } else {
    method_ = Method::kBluestein;
    int64_t m = 1;
    while (m < 2 * n - 1) m <<= 1;
    inner_ = std::make_unique<FftPlan>(m);
    // k^2 mod 2n, stepped as (k+1)^2 = k^2 + 2k + 1: exact where k^2 itself would overflow,
    // and the angle stays small so that its cos/sin keep full precision.
    chirp_.resize(static_cast<size_t>(n));
    int64_t sq = 0;
    for (int64_t k = 0; k < n; ++k) {
      const double a = -std::numbers::pi * static_cast<double>(sq) / static_cast<double>(n);
      chirp_[static_cast<size_t>(k)] = {std::cos(a), std::sin(a)};
      sq = (sq + 2 * k + 1) % (2 * n);
    }
    kernel_.assign(static_cast<size_t>(m), Complex{});
    kernel_[0] = std::conj(chirp_[0]);
    for (int64_t k = 1; k < n; ++k)
      kernel_[static_cast<size_t>(k)] = kernel_[static_cast<size_t>(m - k)] =
          std::conj(chirp_[static_cast<size_t>(k)]);
    inner_->Radix2(kernel_.data(), false);
  }
}

FftPlan::~FftPlan() = default;

size_t FftPlan::scratch_size() const {
  switch (method_) {
    case Method::kRadix2:
      return 0;
    case Method::kDirect:
      return static_cast<size_t>(n_);
    case Method::kBluestein:
      return static_cast<size_t>(inner_->size());
  }
  return 0;
}

void FftPlan::Transform(Complex* data, bool inverse, Complex* scratch) const {
  switch (method_) {
    case Method::kRadix2:
      return Radix2(data, inverse);
    case Method::kDirect:
      return Direct(data, inverse, scratch);
    case Method::kBluestein:
      return Bluestein(data, inverse, scratch);
  }
}

void FftPlan::Radix2(Complex* a, bool inverse) const {
  const int64_t n = n_;
  for (int64_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    int64_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[i], a[j]);
  }
  for (int64_t len = 2; len <= n; len <<= 1) {
    const int64_t half = len / 2, step = n / len;
    for (int64_t start = 0; start < n; start += len) {
      for (int64_t k = 0; k < half; ++k) {
        Complex w = roots_[static_cast<size_t>(k * step)];
        if (inverse) w = std::conj(w);
        const Complex u = a[start + k], v = Mul(a[start + k + half], w);
        a[start + k] = u + v;
        a[start + k + half] = u - v;
      }
    }
  }
}

void FftPlan::Direct(Complex* a, bool inverse, Complex* out) const {
  // The inverse is the forward sum of the conjugate, conjugated: one table, one loop.
  const int64_t n = n_;
  if (inverse)
    for (int64_t j = 0; j < n; ++j) a[j] = std::conj(a[j]);
  for (int64_t k = 0; k < n; ++k) {
    Complex sum{};
    // The exponent k*j mod n, stepped by k: the table holds every root exactly once. The
    // wrap is a select, not a branch, since its pattern changes with every k.
    for (int64_t j = 0, e = 0; j < n; ++j) {
      sum += Mul(a[j], roots_[static_cast<size_t>(e)]);
      const int64_t next = e + k;
      e = next >= n ? next - n : next;
    }
    out[k] = inverse ? std::conj(sum) : sum;
  }
  std::copy(out, out + n, a);
}

void FftPlan::Bluestein(Complex* a, bool inverse, Complex* buf) const {
  // The inverse transform is the forward one of the conjugate, conjugated.
  const int64_t n = n_, m = inner_->size();
  for (int64_t k = 0; k < n; ++k) {
    const Complex x = inverse ? std::conj(a[k]) : a[k];
    buf[k] = Mul(x, chirp_[static_cast<size_t>(k)]);
  }
  std::fill(buf + n, buf + m, Complex{});
  inner_->Radix2(buf, false);
  for (int64_t k = 0; k < m; ++k) buf[k] = Mul(buf[k], kernel_[static_cast<size_t>(k)]);
  inner_->Radix2(buf, true);
  const double scale = 1.0 / static_cast<double>(m);
  for (int64_t k = 0; k < n; ++k) {
    const Complex y = Mul(buf[k], chirp_[static_cast<size_t>(k)]) * scale;
    a[k] = inverse ? std::conj(y) : y;
  }
}

}  // namespace supernova::ops
