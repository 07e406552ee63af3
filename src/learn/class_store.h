// The class store of on-device learning (docs/learn.md): a directory holding, per class, its
// prototype (mean of the examples' unit embeddings), the example embeddings, a count and
// metadata, for one embedder (Embedder::identity) and dimension.
//
//   DIR/store.json            {"format": 1, "embedder": "<identity>", "dim": 128, ...}
//   DIR/classes/<name>.class  one class: a header (JSON), float32 arrays, a CRC-32 trailer
//
// Every write replaces one file atomically: the new content goes to a temporary file in the
// same directory, is fsync'ed, renamed over the old name, and the directory is fsync'ed. A
// reader therefore sees the class as it was before the write or after it, never half of it,
// whatever kills the writer (kill -9, power loss): the crash test kills writers in a loop.
// Each class file carries a version that every write increments; temporary files a killed
// writer left are ignored by readers and removed by the next writer. The class's name is its
// file's name (a rename is one rename(2)). Each write holds an flock on DIR/.lock while it
// reads, changes and replaces a file, so several processes (the CLI, the server) may share one
// store without losing each other's updates.
//
// Errors: NotFound (no such class or store), AlreadyExists (a rename onto a class),
// FailedPrecondition (UpdatePrototype's version is stale), InvalidArgument (a bad name, an
// embedding of the wrong size, not finite or not of unit length, a store of another embedder),
// Internal (a damaged file: "... is corrupt: ..."). A call that fails changes no file. Every
// method may be called from any thread; each reads the directory afresh.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supernova/status.h"

namespace supernova::learn {

struct ClassRecord {
  std::string name;
  uint64_t version = 0;          // incremented by every write of this class
  int64_t count = 0;             // examples ever added (examples may keep fewer: max_examples)
  std::vector<float> prototype;  // [dim]: the mean of the kept examples, refined online
  std::vector<float> anchor;     // [dim]: the prototype as enrolled (reset and drift cap)
  std::vector<float> examples;   // [n * dim], unit rows, oldest first
  int64_t refinements = 0;       // online updates since the last enrolment or reset
  std::map<std::string, std::string> metadata;  // free key/value pairs the user gives
  double created_unix = 0, updated_unix = 0;
  int64_t num_examples(int64_t dim) const {
    return dim > 0 ? static_cast<int64_t>(examples.size()) / dim : 0;
  }
};

struct StoreOptions {
  // Example embeddings kept per class (the oldest go first); the count goes on.
  int64_t max_examples = 256;
};

// A class name is 1..128 bytes of UTF-8 without '/', '\\', control characters or NUL, not "."
// or "..", not starting with '.', not ending in a space: it is the file name.
Status ValidateClassName(const std::string& name);

class ClassStore {
 public:
  // Opens DIR, creating it (and store.json) for `embedder` and `dim` when absent. Fails with a
  // clear error when DIR holds a store of another embedder or dimension, or is not a store.
  static Result<std::unique_ptr<ClassStore>> Open(const std::string& dir,
                                                  const std::string& embedder, int64_t dim,
                                                  const StoreOptions& options = {});
  // Opens an existing store whatever its embedder (list, remove, rename, export).
  static Result<std::unique_ptr<ClassStore>> OpenExisting(const std::string& dir,
                                                          const StoreOptions& options = {});
  ~ClassStore();

  const std::string& dir() const { return dir_; }
  const std::string& embedder() const { return embedder_; }
  int64_t dim() const { return dim_; }

  // The classes, by name, read afresh from the directory (another process may have written).
  // A class file that fails its checksum is an error naming it, never skipped silently.
  Result<std::vector<ClassRecord>> List() const;
  Result<ClassRecord> Get(const std::string& name) const;

  // Adds examples (unit rows, [n * dim]; a row whose L2 norm is off 1 by more than 1e-3 is
  // refused) to a class, creating it if new; the prototype becomes
  // the mean of the kept examples and the anchor follows it (an enrolment resets refinement).
  // Metadata given is merged into the class's. Returns the class as written.
  Result<ClassRecord> Add(const std::string& name, const std::vector<float>& embeddings,
                          const std::map<std::string, std::string>& metadata = {});
  // Replaces the prototype (online refinement, refine.h), keeping examples and anchor;
  // increments refinements. Fails if the class changed since `expected_version` (another
  // writer): the caller re-reads and retries.
  Result<ClassRecord> UpdatePrototype(const std::string& name, const std::vector<float>& prototype,
                                      uint64_t expected_version);
  // The prototype back to the anchor; refinements to 0.
  Result<ClassRecord> Reset(const std::string& name);
  Status Rename(const std::string& from, const std::string& to);  // fails if `to` exists
  Status Remove(const std::string& name);

 private:
  ClassStore() = default;
  std::string dir_, embedder_;
  int64_t dim_ = 0;
  StoreOptions options_;
};

}  // namespace supernova::learn
