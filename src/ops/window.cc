#include "ops/window.h"

#include <algorithm>
#include <string>

namespace supernova::ops {

Status ResolveWindow(const ir::Node& node, const std::vector<int64_t>& in_dims,
                     const std::vector<int64_t>& kernel, bool ceil_mode, WindowGeometry* g) {
  auto error = [&](const std::string& message) {
    return Status::InvalidArgument(node.Label() + ": " + message);
  };
  const size_t d = in_dims.size();
  g->in = in_dims;
  g->kernel = kernel;
  if (kernel.size() != d)
    return error("kernel has " + std::to_string(kernel.size()) + " axes, input has " +
                 std::to_string(d) + " spatial axes");
  g->strides = node.AttrInts("strides", std::vector<int64_t>(d, 1));
  g->dilations = node.AttrInts("dilations", std::vector<int64_t>(d, 1));
  if (g->strides.size() != d) return error("strides must have one value per spatial axis");
  if (g->dilations.size() != d) return error("dilations must have one value per spatial axis");
  for (size_t i = 0; i < d; ++i) {
    if (kernel[i] <= 0) return error("kernel dims must be positive");
    if (g->strides[i] <= 0) return error("strides must be positive");
    if (g->dilations[i] <= 0) return error("dilations must be positive");
    if (in_dims[i] < 0) return error("negative input dim");
  }
  std::string auto_pad = node.AttrString("auto_pad", "NOTSET");
  if (auto_pad.empty()) auto_pad = "NOTSET";
  g->pad_begin.assign(d, 0);
  g->pad_end.assign(d, 0);
  g->out.assign(d, 0);
  if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = node.AttrInts("pads", std::vector<int64_t>(2 * d, 0));
    if (pads.size() != 2 * d) return error("pads must have two values per spatial axis");
    for (size_t i = 0; i < d; ++i) {
      g->pad_begin[i] = pads[i];
      g->pad_end[i] = pads[i + d];
      if (pads[i] < 0 || pads[i + d] < 0) return error("pads must be non-negative");
    }
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      const int64_t avail = in_dims[i] + g->pad_begin[i] + g->pad_end[i] - span;
      if (avail < 0)
        return error("window (" + std::to_string(span) + ") larger than padded input (" +
                     std::to_string(avail + span) + ") on spatial axis " + std::to_string(i));
      int64_t o =
          ceil_mode ? (avail + g->strides[i] - 1) / g->strides[i] + 1 : avail / g->strides[i] + 1;
      if (ceil_mode && (o - 1) * g->strides[i] >= in_dims[i] + g->pad_begin[i]) --o;
      g->out[i] = o;
    }
  } else if (auto_pad == "VALID") {
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      if (in_dims[i] < span) return error("window larger than input with auto_pad VALID");
      g->out[i] = (in_dims[i] - span) / g->strides[i] + 1;
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < d; ++i) {
      const int64_t span = (kernel[i] - 1) * g->dilations[i] + 1;
      const int64_t o = (in_dims[i] + g->strides[i] - 1) / g->strides[i];
      const int64_t total = std::max<int64_t>(0, (o - 1) * g->strides[i] + span - in_dims[i]);
      // The odd padding element goes at the end for SAME_UPPER, at the start for SAME_LOWER.
      g->pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g->pad_end[i] = total - g->pad_begin[i];
      g->out[i] = o;
    }
  } else {
    return error("unknown auto_pad '" + auto_pad + "'");
  }
  return Status::Ok();
}

void WindowGeometry::PadToRank(size_t r) {
  while (in.size() < r) {
    in.insert(in.begin(), 1);
    kernel.insert(kernel.begin(), 1);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pad_begin.insert(pad_begin.begin(), 0);
    pad_end.insert(pad_end.begin(), 0);
    out.insert(out.begin(), 1);
  }
}

}  // namespace supernova::ops
