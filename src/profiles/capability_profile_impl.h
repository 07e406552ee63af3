// Inside the capability profiles: what the parser (capability_profile.cc) and the evaluator
// (profile_evaluator.cc) share. Not part of the profiles' API; include capability_profile.h.
#pragma once

#include "supernova/tensor.h"

namespace supernova::profiles {

// The float types, which FloatPolicy is about: a "convert" profile needs one in its dtypes,
// and float values count as int8 under EvalOptions::assume_int8.
bool IsFloat(DataType t);

}  // namespace supernova::profiles
