// A program of another project that embeds the installed runtime: opens Triton's `simple`
// model (OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, int32[N,16]) and checks the
// sums. Built by tests/install/check_install.sh against the installed package only.
#include <cstdio>
#include <vector>

#include "supernova/session.h"
#include "supernova/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL\n");
    return 2;
  }
  supernova::SessionOptions options;
  options.num_threads = 1;
  auto session = supernova::Session::Open(argv[1], options);
  if (!session.ok()) {
    std::fprintf(stderr, "open: %s\n", session.status().ToString().c_str());
    return 1;
  }
  std::vector<int32_t> a(16), b(16);
  for (int i = 0; i < 16; ++i) {
    a[i] = i;
    b[i] = 3 * i - 7;
  }
  std::vector<supernova::Tensor> outputs;
  supernova::Status s = (*session)->Run({{"INPUT0", supernova::Tensor::FromVector(a, {1, 16})},
                                         {"INPUT1", supernova::Tensor::FromVector(b, {1, 16})}},
                                        &outputs);
  if (!s.ok() || outputs.size() != 2) {
    std::fprintf(stderr, "run: %s\n", s.ToString().c_str());
    return 1;
  }
  for (int i = 0; i < 16; ++i) {
    if (outputs[0].data<int32_t>()[i] != a[i] + b[i] ||
        outputs[1].data<int32_t>()[i] != a[i] - b[i]) {
      std::fprintf(stderr, "wrong result at %d\n", i);
      return 1;
    }
  }
  std::printf("supernova %s: simple model ok\n", SUPERNOVA_VERSION);
  return 0;
}
