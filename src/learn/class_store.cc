#include "learn/class_store.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "learn/class_file.h"
#include "learn/durable_file.h"

namespace supernova::learn {
namespace {

using json = nlohmann::json;

constexpr int kStoreFormat = 1;
constexpr const char* kStoreFile = "store.json";
constexpr const char* kLockFile = ".lock";
constexpr const char* kClassesDir = "classes";
constexpr std::string_view kClassSuffix = ".class";
constexpr size_t kMaxNameBytes = 128;
// How far from 1 an example's L2 norm may be: float rounding of a normalised vector is ~1e-7,
// a vector nobody normalised is off by far more.
constexpr double kUnitTolerance = 1e-3;

double NowUnix() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// The name as an error message may show it: control bytes escaped.
std::string Printable(const std::string& name) {
  std::string out;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string ParentDir(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status CheckFinite(const std::vector<float>& v, const char* what) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      return Status::InvalidArgument(std::string(what) + " has a value that is not finite (at " +
                                     std::to_string(i) + ")");
  return Status::Ok();
}

Status CheckExamples(const std::vector<float>& e, int64_t dim) {
  const auto d = static_cast<size_t>(dim);
  if (e.empty() || e.size() % d != 0)
    return Status::InvalidArgument("embeddings have " + std::to_string(e.size()) +
                                   " values, not a non-zero multiple of the store's dimension " +
                                   std::to_string(dim));
  SN_RETURN_IF_ERROR(CheckFinite(e, "an embedding"));
  for (size_t row = 0; row < e.size() / d; ++row) {
    double sq = 0;
    for (size_t i = 0; i < d; ++i) sq += double{e[row * d + i]} * e[row * d + i];
    if (std::abs(std::sqrt(sq) - 1) > kUnitTolerance)
      return Status::InvalidArgument("embedding " + std::to_string(row) + " has L2 norm " +
                                     std::to_string(std::sqrt(sq)) +
                                     "; the store keeps unit embeddings");
  }
  return Status::Ok();
}

void SetPrototypeToMean(ClassRecord* r, int64_t dim) {
  const auto d = static_cast<size_t>(dim);
  const size_t n = r->examples.size() / d;
  std::vector<double> sum(d, 0.0);
  for (size_t row = 0; row < n; ++row)
    for (size_t i = 0; i < d; ++i) sum[i] += r->examples[row * d + i];
  r->prototype.resize(d);
  for (size_t i = 0; i < d; ++i) r->prototype[i] = static_cast<float>(sum[i] / n);
}

struct StoreInfo {
  std::string embedder;
  int64_t dim = 0;
};

Result<StoreInfo> ReadStoreFile(const std::string& dir) {
  const std::string path = dir + "/" + kStoreFile;
  Result<std::string> bytes = durable::ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == Status::Code::kNotFound)
      return Status::NotFound("'" + dir + "' is not a class store (no " + kStoreFile + ")");
    return bytes.status();
  }
  const json j = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  auto format = j.is_object() ? j.find("format") : j.end();
  if (j.is_discarded() || !j.is_object() || format == j.end() || !format->is_number_integer() ||
      !j.contains("embedder") || !j["embedder"].is_string() || !j.contains("dim") ||
      !j["dim"].is_number_integer() || j["dim"].get<int64_t>() <= 0)
    return Status::Internal("'" + path + "' is corrupt (not a class store's description)");
  if (format->get<int64_t>() != kStoreFormat)
    return Status::Unimplemented("'" + path + "' is of format " + format->dump() +
                                 "; this build reads format " + std::to_string(kStoreFormat));
  return StoreInfo{j["embedder"].get<std::string>(), j["dim"].get<int64_t>()};
}

// What a store directory may hold before its store.json exists: the leftovers of a creation
// that was killed (the lock, an empty classes/, a temporary store.json). Anything else means
// DIR is someone else's directory, which the store must not take over.
Result<bool> IsEmptyOrUnfinishedStore(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return Status::Unavailable("cannot list '" + dir + "': " + std::strerror(errno));
  bool ok = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n == "." || n == ".." || n == kLockFile || durable::IsTempName(n)) continue;
    if (n == kClassesDir) {
      DIR* c = ::opendir((dir + "/" + n).c_str());
      if (c == nullptr) {
        ok = false;
        continue;
      }
      while (const dirent* ce = ::readdir(c))
        if (std::strcmp(ce->d_name, ".") != 0 && std::strcmp(ce->d_name, "..") != 0) ok = false;
      ::closedir(c);
      continue;
    }
    ok = false;
  }
  ::closedir(d);
  return ok;
}

std::string Describe(const std::string& embedder, int64_t dim) {
  return "'" + embedder + "' (dim " + std::to_string(dim) + ")";
}

}  // namespace

Status ValidateClassName(const std::string& name) {
  const std::string shown = "class name '" + Printable(name) + "'";
  if (name.empty()) return Status::InvalidArgument("a class name may not be empty");
  if (name.size() > kMaxNameBytes)
    return Status::InvalidArgument(shown + " is longer than " + std::to_string(kMaxNameBytes) +
                                   " bytes");
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\')
      return Status::InvalidArgument(shown + " contains '" + std::string(1, c) +
                                     "', a path character");
    if (u < 0x20 || u == 0x7f)
      return Status::InvalidArgument(shown + " contains a control character");
  }
  if (name == "." || name == "..") return Status::InvalidArgument(shown + " is a path");
  if (name[0] == '.') return Status::InvalidArgument(shown + " starts with '.'");
  if (name.back() == ' ') return Status::InvalidArgument(shown + " ends in a space");
  if (!IsUtf8(name)) return Status::InvalidArgument(shown + " is not UTF-8");
  return Status::Ok();
}

// The store's state is its directory; these keep the paths and the per-write steps in one place.
namespace {

std::string ClassesPath(const std::string& dir) { return dir + "/" + kClassesDir; }
std::string ClassFileName(const std::string& name) { return name + std::string(kClassSuffix); }

Status CheckOptions(const StoreOptions& options) {
  if (options.max_examples < 1)
    return Status::InvalidArgument("max_examples must be at least 1, not " +
                                   std::to_string(options.max_examples));
  return Status::Ok();
}

std::string ClassPath(const ClassStore& store, const std::string& name) {
  return ClassesPath(store.dir()) + "/" + ClassFileName(name);
}

bool ClassExists(const ClassStore& store, const std::string& name) {
  struct stat st;
  return ::stat(ClassPath(store, name).c_str(), &st) == 0;
}

Status NoSuchClass(const ClassStore& store, const std::string& name) {
  return Status::NotFound("no class '" + name + "' in the store at '" + store.dir() + "'");
}

// Reads one class; NotFound names the class and the store.
Result<ClassRecord> ReadClass(const ClassStore& store, const std::string& name) {
  const std::string path = ClassPath(store, name);
  Result<std::string> bytes = durable::ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == Status::Code::kNotFound) return NoSuchClass(store, name);
    return bytes.status();
  }
  SN_ASSIGN_OR_RETURN(ClassRecord r, DecodeClassFile(*bytes, path, store.embedder(), store.dim()));
  r.name = name;
  return r;
}

// Writes `r` as the new state of its class; the caller holds the lock and has read the old.
Result<ClassRecord> WriteClass(const ClassStore& store, ClassRecord r) {
  r.version += 1;
  r.updated_unix = NowUnix();
  SN_ASSIGN_OR_RETURN(std::string bytes, EncodeClassFile(r, store.embedder(), store.dim()));
  const std::string classes = ClassesPath(store.dir());
  SN_RETURN_IF_ERROR(durable::RemoveTempFiles(classes));
  SN_RETURN_IF_ERROR(durable::ReplaceFile(classes, ClassFileName(r.name), bytes));
  return r;
}

Result<durable::FileLock> LockStore(const std::string& dir) {
  return durable::FileLock::Acquire(dir + "/" + kLockFile);
}

}  // namespace

Result<std::unique_ptr<ClassStore>> ClassStore::Open(const std::string& dir,
                                                     const std::string& embedder, int64_t dim,
                                                     const StoreOptions& options) {
  if (embedder.empty() || !IsUtf8(embedder))
    return Status::InvalidArgument("a class store needs an embedder identity (UTF-8)");
  if (dim <= 0)
    return Status::InvalidArgument("a class store needs a positive dimension, not " +
                                   std::to_string(dim));
  SN_RETURN_IF_ERROR(CheckOptions(options));
  bool created_dir = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created_dir = true;
  } else if (const int err = errno; err != EEXIST || !IsDir(dir)) {
    return Status::Unavailable("cannot create the class store directory '" + dir +
                               "': " + (err == EEXIST ? "not a directory" : std::strerror(err)));
  }
  Result<StoreInfo> info = ReadStoreFile(dir);
  if (!info.ok() && info.status().code() == Status::Code::kNotFound) {
    SN_ASSIGN_OR_RETURN(bool empty, IsEmptyOrUnfinishedStore(dir));
    // Not empty may also mean another process made the store (and a class) since the first look.
    if (!empty && !ReadStoreFile(dir).ok())
      return Status::InvalidArgument("'" + dir + "' is not a class store (no " + kStoreFile +
                                     ") and not empty; give a new or empty directory");
    SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir));
    info = ReadStoreFile(dir);  // another process may have made it while this one waited
    if (!info.ok() && info.status().code() == Status::Code::kNotFound) {
      // classes/ before store.json: a store.json always has its classes/ beside it.
      const std::string classes = ClassesPath(dir);
      if (::mkdir(classes.c_str(), 0755) != 0 && errno != EEXIST)
        return Status::Unavailable("cannot create '" + classes + "': " + std::strerror(errno));
      SN_RETURN_IF_ERROR(durable::RemoveTempFiles(dir));
      const json j = {{"format", kStoreFormat},
                      {"embedder", embedder},
                      {"dim", dim},
                      {"created_unix", NowUnix()}};
      SN_RETURN_IF_ERROR(durable::ReplaceFile(dir, kStoreFile, j.dump(2) + "\n"));
      // The new directory's own name must persist too, or a power loss could lose the store.
      if (created_dir) {
        SN_RETURN_IF_ERROR(durable::SyncDir(ParentDir(dir)));
      }
      info = StoreInfo{embedder, dim};
    }
  }
  if (!info.ok()) return info.status();
  if (info->embedder != embedder || info->dim != dim)
    return Status::InvalidArgument(
        "the class store at '" + dir + "' holds embeddings of " +
        Describe(info->embedder, info->dim) + ", not of " + Describe(embedder, dim) +
        ": use the model (and layer) it was made with, or another store");
  std::unique_ptr<ClassStore> store(new ClassStore());
  store->dir_ = dir;
  store->embedder_ = info->embedder;
  store->dim_ = info->dim;
  store->options_ = options;
  return store;
}

Result<std::unique_ptr<ClassStore>> ClassStore::OpenExisting(const std::string& dir,
                                                             const StoreOptions& options) {
  SN_RETURN_IF_ERROR(CheckOptions(options));
  SN_ASSIGN_OR_RETURN(StoreInfo info, ReadStoreFile(dir));
  std::unique_ptr<ClassStore> store(new ClassStore());
  store->dir_ = dir;
  store->embedder_ = info.embedder;
  store->dim_ = info.dim;
  store->options_ = options;
  return store;
}

ClassStore::~ClassStore() = default;

Result<std::vector<ClassRecord>> ClassStore::List() const {
  const std::string classes = ClassesPath(dir_);
  DIR* d = ::opendir(classes.c_str());
  if (d == nullptr)
    return Status::Unavailable("cannot list '" + classes + "': " + std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view file = e->d_name;
    if (file.size() <= kClassSuffix.size() || !file.ends_with(kClassSuffix)) continue;
    std::string name(file.substr(0, file.size() - kClassSuffix.size()));
    if (ValidateClassName(name).ok()) names.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::vector<ClassRecord> out;
  for (const std::string& name : names) {
    Result<ClassRecord> r = ReadClass(*this, name);
    // Removed or renamed by another process since the listing: it is not a class any more.
    if (!r.ok() && r.status().code() == Status::Code::kNotFound) continue;
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  return out;
}

Result<ClassRecord> ClassStore::Get(const std::string& name) const {
  SN_RETURN_IF_ERROR(ValidateClassName(name));
  return ReadClass(*this, name);
}

Result<ClassRecord> ClassStore::Add(const std::string& name, const std::vector<float>& embeddings,
                                    const std::map<std::string, std::string>& metadata) {
  SN_RETURN_IF_ERROR(ValidateClassName(name));
  SN_RETURN_IF_ERROR(CheckExamples(embeddings, dim_));
  SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir_));
  Result<ClassRecord> old = ReadClass(*this, name);
  if (!old.ok() && old.status().code() != Status::Code::kNotFound) return old.status();
  ClassRecord r;
  if (old.ok()) {
    r = std::move(old).value();
  } else {
    r.name = name;
    r.created_unix = NowUnix();
  }
  const auto d = static_cast<size_t>(dim_);
  r.examples.insert(r.examples.end(), embeddings.begin(), embeddings.end());
  r.count += static_cast<int64_t>(embeddings.size() / d);
  const size_t keep = static_cast<size_t>(options_.max_examples) * d;
  if (r.examples.size() > keep)
    r.examples.erase(r.examples.begin(),
                     r.examples.begin() + static_cast<std::ptrdiff_t>(r.examples.size() - keep));
  SetPrototypeToMean(&r, dim_);
  r.anchor = r.prototype;
  r.refinements = 0;
  for (const auto& [k, v] : metadata) r.metadata[k] = v;
  return WriteClass(*this, std::move(r));
}

Result<ClassRecord> ClassStore::UpdatePrototype(const std::string& name,
                                                const std::vector<float>& prototype,
                                                uint64_t expected_version) {
  SN_RETURN_IF_ERROR(ValidateClassName(name));
  if (static_cast<int64_t>(prototype.size()) != dim_)
    return Status::InvalidArgument("a prototype of " + std::to_string(prototype.size()) +
                                   " values for a store of dimension " + std::to_string(dim_));
  SN_RETURN_IF_ERROR(CheckFinite(prototype, "the prototype"));
  SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir_));
  SN_ASSIGN_OR_RETURN(ClassRecord r, ReadClass(*this, name));
  if (r.version != expected_version)
    return Status::FailedPrecondition(
        "class '" + name + "' is at version " + std::to_string(r.version) + ", not " +
        std::to_string(expected_version) + " (another writer changed it): re-read and retry");
  r.prototype = prototype;
  r.refinements += 1;
  return WriteClass(*this, std::move(r));
}

Result<ClassRecord> ClassStore::Reset(const std::string& name) {
  SN_RETURN_IF_ERROR(ValidateClassName(name));
  SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir_));
  SN_ASSIGN_OR_RETURN(ClassRecord r, ReadClass(*this, name));
  r.prototype = r.anchor;
  r.refinements = 0;
  return WriteClass(*this, std::move(r));
}

Status ClassStore::Rename(const std::string& from, const std::string& to) {
  SN_RETURN_IF_ERROR(ValidateClassName(from));
  SN_RETURN_IF_ERROR(ValidateClassName(to));
  SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir_));
  if (!ClassExists(*this, from)) return NoSuchClass(*this, from);
  if (ClassExists(*this, to))
    return {Status::Code::kAlreadyExists,
            "class '" + to + "' already exists in the store at '" + dir_ + "'"};
  const std::string classes = ClassesPath(dir_);
  SN_RETURN_IF_ERROR(durable::RemoveTempFiles(classes));
  return durable::RenameNoReplace(classes, ClassFileName(from), ClassFileName(to));
}

Status ClassStore::Remove(const std::string& name) {
  SN_RETURN_IF_ERROR(ValidateClassName(name));
  SN_ASSIGN_OR_RETURN(durable::FileLock lock, LockStore(dir_));
  if (!ClassExists(*this, name)) return NoSuchClass(*this, name);
  const std::string classes = ClassesPath(dir_);
  SN_RETURN_IF_ERROR(durable::RemoveTempFiles(classes));
  return durable::RemoveFile(classes, ClassFileName(name));
}

}  // namespace supernova::learn
