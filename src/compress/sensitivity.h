// Which nodes int8 hurts most. Post-training quantization of a network's nodes is rarely
// uniform in cost: a few (a depthwise convolution reading a wide-ranged hard-swish, a
// squeeze-and-excitation gate reading a pooled value that the calibration set under-covers)
// move the outputs ten times more than the median node. Each node is quantized alone, the model
// run on calibration inputs, and the outputs' relative error against the float model recorded;
// the caller keeps the outliers float.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compress/probe.h"
#include "compress/qdq.h"
#include "ir/onnx_import.h"

namespace supernova::compress {

// For each site of `plan`, the relative L2 error sqrt(sum (q - f)^2 / sum f^2) of the float
// output that moves most, over every sample, when that node alone is quantized. `model` is the
// float model the plan was made for.
Result<std::vector<double>> MeasureSensitivity(
    const ir::Model& model, const QuantizePlan& plan, const std::map<std::string, Range>& ranges,
    const std::map<std::string, std::vector<double>>& means, const QuantizeOptions& options,
    const std::vector<Feeds>& samples, int threads);

// The sites whose error is at least `factor` times the median site's, most sensitive first.
std::vector<size_t> Outliers(const std::vector<double>& errors, double factor);

}  // namespace supernova::compress
