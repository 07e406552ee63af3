// squares_model PATH [WIDTH HEIGHT SIDE]: writes the squares detector (squares.h) for scripts
// that run `supernova stream` without a test binary of their own (tests/deploy/check_edgex.py).
#include <cstdio>
#include <cstdlib>

#include "stream/squares.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 5) {
    std::fprintf(stderr, "usage: squares_model PATH [WIDTH HEIGHT SIDE]\n");
    return 2;
  }
  const int width = argc == 5 ? std::atoi(argv[2]) : 320;
  const int height = argc == 5 ? std::atoi(argv[3]) : 240;
  const int side = argc == 5 ? std::atoi(argv[4]) : 40;
  const supernova::Status s =
      supernova::testing::WriteSquaresModel(argv[1], width, height, side, /*depth=*/0);
  if (!s.ok()) {
    std::fprintf(stderr, "squares_model: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
