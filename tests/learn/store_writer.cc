// A class store writer for the crash and lock tests (store_crash_test.cc), run as its own
// process so that the test can kill it with SIGKILL:
//
//   store_writer crash DIR SEED        adds, refines and resets classes c0..c5 until killed;
//                                      after each write, prints "K VERSION" (one write(2))
//   store_writer add DIR CLASS N TAG   adds the examples Row(TAG, 0..N-1) one at a time
//
// Content is crash_content.h's, so the test can tell a whole class from a torn one.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "learn/class_store.h"
#include "learn/crash_content.h"

namespace sl = supernova::learn;
namespace crash = supernova::learn::crash;

namespace {

int Fail(const supernova::Status& s) {
  std::fprintf(stderr, "store_writer: %s\n", s.ToString().c_str());
  return 2;
}

void Report(int k, uint64_t version) {
  const std::string line = std::to_string(k) + " " + std::to_string(version) + "\n";
  // One write, so a kill leaves a line whole or absent.
  if (::write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    std::exit(3);
}

int Crash(sl::ClassStore& store, unsigned seed) {
  std::mt19937 rng(seed);
  for (;;) {
    const int k = static_cast<int>(rng() % crash::kClasses);
    const std::string name = crash::ClassName(k);
    supernova::Result<sl::ClassRecord> old = store.Get(name);
    if (!old.ok() && old.status().code() != supernova::Status::Code::kNotFound)
      return Fail(old.status());
    const unsigned op = rng() % 10;
    supernova::Result<sl::ClassRecord> written = supernova::Status::Internal("no write");
    if (!old.ok() || op < 5) {
      const int64_t from = old.ok() ? old->count : 0;
      const int64_t rows = 1 + rng() % 3;
      std::vector<float> e;
      for (int64_t s = from; s < from + rows; ++s) {
        const std::vector<float> row = crash::Row(k, s);
        e.insert(e.end(), row.begin(), row.end());
      }
      written = store.Add(name, e, {{"count", std::to_string(from + rows)}});
    } else if (op < 8) {
      written = store.UpdatePrototype(name, crash::Refined(old->anchor, old->refinements + 1),
                                      old->version);
    } else {
      written = store.Reset(name);
    }
    if (!written.ok()) return Fail(written.status());
    Report(k, written->version);
  }
}

int AddRows(sl::ClassStore& store, const std::string& name, int n, int tag) {
  for (int i = 0; i < n; ++i) {
    supernova::Result<sl::ClassRecord> r = store.Add(name, crash::Row(tag, i));
    if (!r.ok()) return Fail(r.status());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 2 ? argv[1] : "";
  if (!((mode == "crash" && argc == 4) || (mode == "add" && argc == 6))) {
    std::fprintf(stderr, "usage: store_writer crash DIR SEED | add DIR CLASS N TAG\n");
    return 1;
  }
  sl::StoreOptions options;
  options.max_examples = mode == "crash" ? crash::kMaxExamples : 100000;
  auto store = sl::ClassStore::Open(argv[2], crash::kEmbedder, crash::kDim, options);
  if (!store.ok()) return Fail(store.status());
  if (mode == "crash") return Crash(**store, static_cast<unsigned>(std::stoul(argv[3])));
  return AddRows(**store, argv[3], std::stoi(argv[4]), std::stoi(argv[5]));
}
