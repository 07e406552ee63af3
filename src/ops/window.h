// Window geometry shared by every provider's convolutions and pooling (the reference kernels,
// oneDNN, cuDNN): reads kernel_shape, strides, dilations, pads and auto_pad from a node and
// resolves the padding and output size of every spatial axis, validating the attributes on the
// way. One definition, so that every provider agrees on output shapes by construction.
#pragma once

#include <cstdint>
#include <vector>

#include "ir/graph.h"
#include "supernova/status.h"

namespace supernova::ops {

struct WindowGeometry {
  std::vector<int64_t> in;      // input spatial dims
  std::vector<int64_t> kernel;  // window size per axis
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pad_begin;  // padding before the first element of each axis
  std::vector<int64_t> pad_end;
  std::vector<int64_t> out;  // output spatial dims

  size_t rank() const { return in.size(); }
  // Prepends unit axes (size 1, kernel 1, no padding) up to `rank` so that one loop nest
  // serves 1-D, 2-D and 3-D windows.
  void PadToRank(size_t rank);
};

// Reads strides/dilations/pads/auto_pad (defaults 1, 1, 0, NOTSET) of `node` for the given
// input spatial dims and window `kernel`, and computes the output dims. `ceil_mode` selects the
// pooling rounding (a last window that would start in the end padding is dropped). Bad
// attributes are InvalidArgument naming the node.
Status ResolveWindow(const ir::Node& node, const std::vector<int64_t>& in_dims,
                     const std::vector<int64_t>& kernel, bool ceil_mode, WindowGeometry* g);

}  // namespace supernova::ops
