// The cuda provider's compiled pieces.
#pragma once

#include <memory>

#include "providers/cuda/device_state.h"
#include "providers/provider.h"

namespace supernova::providers::cuda {

// Compiles `piece`: makes each node's op and uploads the float32 initializers its nodes read.
Result<std::unique_ptr<CompiledPiece>> CompileCudaPiece(std::shared_ptr<DeviceState> state,
                                                        const Piece& piece);

}  // namespace supernova::providers::cuda
