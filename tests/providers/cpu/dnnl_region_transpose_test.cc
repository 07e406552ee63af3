// Transposes inside oneDNN regions: each case runs against the reference kernels and must
// compile to a oneDNN plan (no fallback), so that an NHWC model keeps its region whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnnl_region_helpers.h"

namespace supernova::testing::region_test {
namespace {

// An NHWC input transposed to NCHW for the convolutions and their result transposed back: the
// pattern of models converted from TensorFlow. Batch 1 and 2, one and two threads.
TEST(DnnlRegionTranspose, NhwcInputAndOutputAroundConvolutions) {
  for (int64_t batch : {1, 2}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE("batch " + std::to_string(batch) + ", threads " + std::to_string(threads));
      ModelBuilder mb;
      std::string x = mb.Input("x", {batch, 17, 19, 3});
      std::string v = mb.Op("Transpose", {x}, {Ints("perm", {0, 3, 1, 2})});
      v = mb.Conv(v, 3, 16, 3, {Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 1})});
      v = mb.Op("Relu", {v});
      std::string heat = mb.Op("Sigmoid", {mb.Conv(v, 16, 24, 1)});
      std::string boxes = mb.Conv(v, 16, 4, 1);
      mb.Output(mb.Op("Transpose", {heat}, {Ints("perm", {0, 2, 3, 1})}));
      mb.Output(mb.Op("Transpose", {boxes}, {Ints("perm", {0, 2, 3, 1})}));
      ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({batch, 17, 19, 3}, 41)}},
                                   threads);
    }
  }
}

// Other permutations, a transposed value read by a primitive and also returned, a transpose of
// a transpose, rank 3 and rank 5, and a default (reversing) perm.
TEST(DnnlRegionTranspose, PermutationsInsideRegion) {
  {
    SCOPED_TRACE("spatial swap read by a convolution and returned");
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 8, 6, 9});
    std::string v = mb.Conv(x, 8, 16, 3, {Ints("pads", {1, 1, 1, 1})});
    std::string t = mb.Op("Transpose", {v}, {Ints("perm", {0, 1, 3, 2})});
    mb.Output(t);
    std::string back = mb.Op("Transpose", {mb.Op("Relu", {t})}, {Ints("perm", {0, 2, 3, 1})});
    mb.Output(mb.Op("Transpose", {back}, {Ints("perm", {0, 3, 2, 1})}));
    mb.Output(mb.Conv(t, 16, 8, 1));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 8, 6, 9}, 42)}});
  }
  {
    SCOPED_TRACE("rank 3, reversed by default");
    ModelBuilder mb;
    std::string x = mb.Input("x", {2, 8, 11});
    std::string v = mb.Op("Conv", {x, mb.Random("w1d", {12, 8, 3}), mb.Random("b1d", {12})},
                          {Ints("pads", {1, 1})});
    v = mb.Op("Transpose", {v});
    mb.Output(mb.Op("Tanh", {v}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({2, 8, 11}, 43)}});
  }
  {
    SCOPED_TRACE("rank 5 channels-last in and out");
    ModelBuilder mb;
    std::string x = mb.Input("x", {1, 4, 5, 6, 3});
    std::string v = mb.Op("Transpose", {x}, {Ints("perm", {0, 4, 1, 2, 3})});
    const std::string w = mb.Random("w3d", {8, 3, 1, 1, 1});
    v = mb.Op("Conv", {v, w});
    mb.Output(mb.Op("Transpose", {v}, {Ints("perm", {0, 2, 3, 4, 1})}));
    ExpectOneDnnMatchesReference(mb.Bytes(), {{"x", RandomTensor({1, 4, 5, 6, 3}, 44)}});
  }
}

}  // namespace
}  // namespace supernova::testing::region_test
