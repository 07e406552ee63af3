// What a provider plugin exports: the one symbol the runtime looks up after dlopen.
//
// A provider that brings heavy libraries (cuda: cuDNN, cuBLAS, the CUDA runtime; opencv:
// OpenCV DNN) is built as a shared object, supernova_provider_<name>.so, installed in the
// plugin directory beside libsupernova (runtime/provider_registry.h). A process that never
// asks for the provider never maps it or its libraries. The plugin links libsupernova and
// uses its C++ types, so it must come from the same build: the runtime checks abi_version and
// runtime_version and refuses any other.
//
//   // in the plugin's sources, once:
//   SUPERNOVA_PROVIDER_PLUGIN("cuda", &MakeCudaProvider)
#pragma once

#include <memory>

#include "providers/provider.h"
#include "supernova/version.h"

namespace supernova::providers {

// Bumped whenever ExecutionProvider, CompiledPiece, Tensor or the other types a plugin shares
// with the runtime change layout or meaning.
// 2: CompiledPiece::RunValues, Value; 3: NodeTime's inputs and outputs.
inline constexpr int kPluginAbiVersion = 3;

struct PluginInfo {
  int abi_version;              // kPluginAbiVersion when the plugin was built
  const char* runtime_version;  // SUPERNOVA_VERSION when the plugin was built
  const char* name;             // the provider's name, as in the file name
  Result<std::unique_ptr<ExecutionProvider>> (*make)(const ProviderOptions& options);
};

// The symbol's name, for dlsym.
inline constexpr const char* kPluginEntryPoint = "SupernovaProviderPlugin";

}  // namespace supernova::providers

#define SUPERNOVA_PROVIDER_PLUGIN(provider_name, factory)                                      \
  extern "C" __attribute__((visibility("default"))) const ::supernova::providers::PluginInfo*  \
  SupernovaProviderPlugin() {                                                                  \
    static const ::supernova::providers::PluginInfo info{                                      \
        ::supernova::providers::kPluginAbiVersion, SUPERNOVA_VERSION, provider_name, factory}; \
    return &info;                                                                              \
  }
