// A model's configuration as the server reads it at load (server/model_config.h): the input's
// first byte picks the form, even for config.pbtxt text (ParseModelConfig), odd for the JSON
// of the repository load extension's "config" parameter (ParseModelConfigJson); the rest is
// the text. A config that parses is completed and checked against a fixed model, the
// bundled repository's "simple" (two INT32 [-1,16] inputs, two outputs: it can batch), as
// InferenceServer::LoadModel does before the scheduler sizes its instances from it.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/backend.h"
#include "server/model_config.h"
#include "supernova/session.h"

namespace {

std::shared_ptr<const supernova::server::ModelBackend> model;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // SUPERNOVA_FUZZ_MODEL: the model's path in the source tree, set by fuzz/CMakeLists.txt.
  auto session = supernova::Session::Open(SUPERNOVA_FUZZ_MODEL);
  if (!session.ok()) {
    std::fprintf(stderr, "model_config fuzzer: cannot open %s: %s\n", SUPERNOVA_FUZZ_MODEL,
                 session.status().ToString().c_str());
    std::exit(2);
  }
  model = supernova::server::SessionBackend(std::move(*session));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace supernova::server;
  if (size < 1) return 0;
  const bool json = data[0] & 1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> warnings;
  auto config = json ? ParseModelConfigJson(text) : ParseModelConfig(text, &warnings);
  if (!config.ok()) return 0;
  if (!CompleteModelConfig(*model, /*had_config=*/true, &*config).ok()) return 0;
  // What the loader and the scheduler then read from an accepted config.
  volatile int instances = InstanceCount(*config);
  (void)instances;
  (void)ConfigParameter(*config, "num_threads");
  return 0;
}
