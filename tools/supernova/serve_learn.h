// supernova-serve's backend for the platform "supernova_classifier": a learned classifier
// (on-device learning, docs/learn.md) as a model of `supernova serve`'s repository. One
// encoded image in (IMAGE, BYTES [1]); the class of the class store nearest to its embedding
// out (LABEL, BYTES [1], "unknown" below the threshold), its cosine (SCORE, FP32 [1]) and the
// cosine to every class (SCORES, FP32 [C], in the store's order). The classes are a resource of
// the model, /v2/models/NAME/classes (docs/server.md): listed, added from images, removed.
#pragma once

#include "server/backend.h"

namespace supernova::tools {

server::BackendFactory ClassifierBackendFactory();

}  // namespace supernova::tools
