// Where providers come from: the built-in cpu providers, providers registered in-process
// (tests), and plugins opened on demand.
//
//   auto ep = runtime::CreateProvider("cuda", {});
//   if (!ep.ok()) fmt::print("{}\n", ep.status().message());
//   // "provider cuda unavailable: no plugin .../supernova/supernova_provider_cuda.so"
//
// A plugin (providers/plugin.h) is looked for only when its provider is asked for by name,
// in PluginDirectory(); it is opened once per process and stays open. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "providers/plugin.h"
#include "providers/provider.h"

namespace supernova::runtime {

using ProviderFactory = std::function<Result<std::unique_ptr<providers::ExecutionProvider>>(
    const providers::ProviderOptions&)>;

// Makes the named provider. "cpu" (oneDNN regions and the reference kernels) and
// "cpu_reference" (the reference kernels alone, the tests' oracle) are built in; a name
// registered with RegisterProvider comes next; any other name is a plugin. A plugin that is
// absent, does not load (a library it needs is missing), lacks the entry point or was built
// for another runtime fails with Unavailable("provider <name> unavailable: <reason>").
Result<std::unique_ptr<providers::ExecutionProvider>> CreateProvider(
    std::string_view name, const providers::ProviderOptions& options);

// The providers this installation can make: built-in, registered, and the plugins present in
// PluginDirectory() (present, not necessarily loadable), sorted.
std::vector<std::string> ProviderNames();

// Adds a provider under `name` (tests register their own). Replaces one of the same name.
void RegisterProvider(std::string name, ProviderFactory factory);

// The providers a session asks, in order of preference.
struct ProviderSet {
  std::vector<std::unique_ptr<providers::ExecutionProvider>> owned;
  std::vector<const providers::ExecutionProvider*> asked;  // same order, those that take part
  std::vector<std::string> notes;  // providers skipped or planned without their device, and why
};

// Makes the named providers. One that cannot be made (a plugin missing or broken) is noted
// and skipped; one that cannot run here (Available() fails) is skipped too, unless
// `plan_without_device`, which keeps it so that a placement can be planned for hardware not
// present. The default fallback ("cpu") is appended when no provider named is a fallback.
ProviderSet MakeProviders(const std::vector<std::string>& names,
                          const providers::ProviderOptions& options, bool plan_without_device);

// The directory plugins are looked for in: "supernova" beside the libsupernova shared
// object this code is part of (build/lib/supernova in the build tree,
// <prefix>/lib/supernova when installed).
const std::string& PluginDirectory();

// The file a provider's plugin is expected in.
std::string PluginPath(std::string_view name);

// Opens the plugin at `path` and checks that it exports the entry point, was built for this
// runtime (plugin ABI and version) and holds the provider `name`; Unavailable saying why not
// (the loader's own message when the file or a library it needs does not load). The plugin
// stays open. CreateProvider opens PluginPath(name) with it.
Result<const providers::PluginInfo*> OpenPlugin(const std::string& path, std::string_view name);

}  // namespace supernova::runtime
