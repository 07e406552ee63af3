// The raw bytes of a vector of numbers: the binary tensor data of both protocols' tests.
// One definition that the HTTP and gRPC fixtures both name: their tests share compile units
// (tests/CMakeLists.txt), so two copies would be ambiguous there.
#pragma once

#include <string>
#include <vector>

namespace supernova::server::test_bytes {

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace supernova::server::test_bytes
