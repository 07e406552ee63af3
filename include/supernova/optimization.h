// How much the graph optimizer rewrites a model before it runs: a word of the public API that
// the session's options and the optimizer (a layer below the session) both speak.
#pragma once

namespace supernova {

// kNone runs the model as written; kBasic folds constants and removes redundant and dead nodes;
// kAll also folds BatchNormalization into weights and fuses Conv with a residual Add and an
// activation (results may differ from kNone by float rounding). src/optimizer/optimizer.h
// lists the passes of each level.
enum class OptimizationLevel { kNone, kBasic, kAll };

}  // namespace supernova
