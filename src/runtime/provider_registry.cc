#include "runtime/provider_registry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include "providers/cpu/cpu_provider.h"
#include "providers/plugin.h"
#include "supernova/version.h"

namespace supernova::runtime {
namespace {

constexpr std::string_view kPluginPrefix = "supernova_provider_";
constexpr std::string_view kPluginSuffix = ".so";

// A plugin once asked for: its entry point, or why it could not be used. Never closed: the
// providers it made (and the code of their virtual functions) may live as long as the process.
struct Plugin {
  const providers::PluginInfo* info = nullptr;
  std::string error;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, ProviderFactory, std::less<>> factories;  // GUARDED_BY(mu)
  std::map<std::string, Plugin, std::less<>> plugins;             // GUARDED_BY(mu)
};

Registry& GetRegistry() {
  static Registry* registry = [] {
    auto* r = new Registry;
    r->factories.emplace("cpu", [](const providers::ProviderOptions& o) {
      return cpu::MakeCpuProvider(o, cpu::CpuKind::kDnnl);
    });
    r->factories.emplace("cpu_reference", [](const providers::ProviderOptions& o) {
      return cpu::MakeCpuProvider(o, cpu::CpuKind::kReference);
    });
    return r;
  }();
  return *registry;
}

// Provider names become file names: lower-case letters, digits and '_' only.
bool ValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Result<const providers::PluginInfo*> OpenPlugin(const std::string& path, std::string_view name) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Unavailable("no plugin " + path);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return Status::Unavailable(why ? why : "dlopen failed for " + path);
  }
  using Entry = const providers::PluginInfo* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(handle, providers::kPluginEntryPoint));
  const providers::PluginInfo* info = entry ? entry() : nullptr;
  std::string error;
  if (!info) {
    error = path + " is not a provider plugin (no " + providers::kPluginEntryPoint + ")";
  } else if (info->abi_version != providers::kPluginAbiVersion ||
             std::strcmp(info->runtime_version, SUPERNOVA_VERSION) != 0) {
    error = path + " was built for runtime " + info->runtime_version + " (plugin ABI " +
            std::to_string(info->abi_version) + "), this is " + SUPERNOVA_VERSION +
            " (plugin ABI " + std::to_string(providers::kPluginAbiVersion) + ")";
  } else if (name != info->name) {
    error = path + " holds provider '" + info->name + "'";
  } else {
    return info;  // never closed (plugin.h)
  }
  dlclose(handle);
  return Status::Unavailable(error);
}

namespace {

Plugin Open(const std::string& name) {
  Plugin p;
  auto info = OpenPlugin(PluginPath(name), name);
  if (info.ok())
    p.info = *info;
  else
    p.error = info.status().message();
  return p;
}

}  // namespace

const std::string& PluginDirectory() {
  static const std::string dir = [] {
    Dl_info where{};
    if (dladdr(reinterpret_cast<const void*>(&PluginDirectory), &where) == 0 || !where.dli_fname)
      return std::string();
    std::error_code ec;
    std::filesystem::path lib = std::filesystem::canonical(where.dli_fname, ec);
    if (ec) lib = where.dli_fname;
    return (lib.parent_path() / "supernova").string();
  }();
  return dir;
}

std::string PluginPath(std::string_view name) {
  return PluginDirectory() + "/" + std::string(kPluginPrefix) + std::string(name) +
         std::string(kPluginSuffix);
}

Result<std::unique_ptr<providers::ExecutionProvider>> CreateProvider(
    std::string_view name, const providers::ProviderOptions& options) {
  Registry& r = GetRegistry();
  ProviderFactory factory;
  const providers::PluginInfo* plugin = nullptr;
  std::string error;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    if (auto it = r.factories.find(name); it != r.factories.end()) {
      factory = it->second;
    } else if (!ValidName(name)) {
      error = "not a provider name (lower-case letters, digits and '_')";
    } else {
      auto p = r.plugins.find(name);
      if (p == r.plugins.end())
        p = r.plugins.emplace(std::string(name), Open(std::string(name))).first;
      plugin = p->second.info;
      error = p->second.error;
    }
  }
  if (factory) return factory(options);
  if (plugin) return plugin->make(options);
  return Status::Unavailable("provider " + std::string(name) + " unavailable: " + error);
}

std::vector<std::string> ProviderNames() {
  std::vector<std::string> names;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    for (const auto& [name, f] : r.factories) names.push_back(name);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(PluginDirectory(), ec)) {
    const std::string file = entry.path().filename().string();
    if (file.size() > kPluginPrefix.size() + kPluginSuffix.size() &&
        file.starts_with(kPluginPrefix) && file.ends_with(kPluginSuffix))
      names.push_back(file.substr(kPluginPrefix.size(),
                                  file.size() - kPluginPrefix.size() - kPluginSuffix.size()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

ProviderSet MakeProviders(const std::vector<std::string>& names,
                          const providers::ProviderOptions& options, bool plan_without_device) {
  ProviderSet set;
  std::vector<std::string> asked = names;
  bool have_fallback = false;
  for (size_t i = 0; i < asked.size() || !have_fallback; ++i) {
    if (i == asked.size()) asked.push_back("cpu");
    auto ep = CreateProvider(asked[i], options);
    if (!ep.ok()) {
      set.notes.push_back(ep.status().message() + "; its nodes go to the providers after it");
      continue;
    }
    if (Status s = (*ep)->Available(); !s.ok()) {
      if (!plan_without_device) {
        set.notes.push_back(asked[i] + ": not available here (" + s.message() +
                            "), its nodes go to the providers after it");
        continue;
      }
      set.notes.push_back(asked[i] + ": not available here (" + s.message() +
                          "); planned as it would run with the device");
    }
    have_fallback = have_fallback || (*ep)->is_fallback();
    set.asked.push_back(ep->get());
    set.owned.push_back(std::move(*ep));
  }
  return set;
}

void RegisterProvider(std::string name, ProviderFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories.insert_or_assign(std::move(name), std::move(factory));
}

}  // namespace supernova::runtime
