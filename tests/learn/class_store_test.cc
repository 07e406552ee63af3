// The class store's operations, its checks of bad input (each an error that changes no file),
// its detection of damaged files, and its lock (two writers of one class lose no example).
#include "learn/class_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <thread>

#include "learn/store_test_util.h"

namespace supernova::learn {
namespace {

using store_test::Concat;
using store_test::FileBytes;
using store_test::ScratchDir;
using store_test::Snapshot;
using store_test::WriteBytes;

constexpr const char* kEmbedder = "0123456789abcdef:fc_input";
const std::vector<float> kR1 = {1, 0, 0, 0}, kR2 = {0, 1, 0, 0}, kR3 = {0, 0, 0.6f, 0.8f};

std::unique_ptr<ClassStore> OpenStore(const std::string& dir, StoreOptions options = {}) {
  Result<std::unique_ptr<ClassStore>> s = ClassStore::Open(dir, kEmbedder, 4, options);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

void ExpectFloats(const std::vector<float>& expected, const std::vector<float>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(expected[i], actual[i], 1e-6) << i;
}

TEST(ClassStore, AddKeepsTheExamplesAndTheirMeanAsPrototypeAndAnchor) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  Result<ClassRecord> a = store->Add("alice", Concat({kR1, kR2}), {{"source", "cam1"}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->version, 1u);
  EXPECT_EQ(a->count, 2);

  Result<ClassRecord> got = store->Get("alice");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->name, "alice");
  EXPECT_EQ(got->version, 1u);
  EXPECT_EQ(got->count, 2);
  EXPECT_EQ(got->num_examples(4), 2);
  ExpectFloats({0.5f, 0.5f, 0, 0}, got->prototype);
  ExpectFloats({0.5f, 0.5f, 0, 0}, got->anchor);
  EXPECT_EQ(got->examples, Concat({kR1, kR2}));  // stored bit for bit
  EXPECT_EQ(got->metadata, (std::map<std::string, std::string>{{"source", "cam1"}}));
  EXPECT_GT(got->created_unix, 1.7e9);
  EXPECT_EQ(got->refinements, 0);

  // A second enrolment: the mean of all three, metadata merged, version 2.
  ASSERT_TRUE(store->Add("alice", kR3, {{"badge", "42"}}).ok());
  got = store->Get("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->version, 2u);
  EXPECT_EQ(got->count, 3);
  ExpectFloats({1 / 3.f, 1 / 3.f, 0.2f, 0.8f / 3}, got->prototype);
  ExpectFloats(got->prototype, got->anchor);
  EXPECT_EQ(got->metadata,
            (std::map<std::string, std::string>{{"source", "cam1"}, {"badge", "42"}}));
}

TEST(ClassStore, MaxExamplesDropsTheOldestWhileTheCountGoesOn) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s", {.max_examples = 2});
  ASSERT_TRUE(store);
  for (const auto& row : {kR1, kR2, kR3}) ASSERT_TRUE(store->Add("c", row).ok());
  Result<ClassRecord> got = store->Get("c");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count, 3);
  EXPECT_EQ(got->examples, Concat({kR2, kR3}));
  ExpectFloats({0, 0.5f, 0.3f, 0.4f}, got->prototype);
}

TEST(ClassStore, ListReadsWhatAnotherStoreOnTheDirectoryWrote) {
  ScratchDir dir;
  auto one = OpenStore(dir / "s");
  auto two = OpenStore(dir / "s");
  ASSERT_TRUE(one && two);
  ASSERT_TRUE(one->Add("zebra", kR1).ok());
  ASSERT_TRUE(two->Add("ant", kR2).ok());
  Result<std::vector<ClassRecord>> list = one->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ant");
  EXPECT_EQ((*list)[1].name, "zebra");
  ExpectFloats(kR2, (*list)[0].prototype);

  // OpenExisting takes the embedder and dimension from the store.
  Result<std::unique_ptr<ClassStore>> existing = ClassStore::OpenExisting(dir / "s");
  ASSERT_TRUE(existing.ok()) << existing.status().ToString();
  EXPECT_EQ((*existing)->embedder(), kEmbedder);
  EXPECT_EQ((*existing)->dim(), 4);
  EXPECT_EQ((*existing)->List()->size(), 2u);
}

TEST(ClassStore, RenameMovesTheClassAndRemoveDeletesIt) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Add("old name", Concat({kR1, kR3})).ok());
  ASSERT_TRUE(store->Rename("old name", "Zoë").ok());
  EXPECT_EQ(store->Get("old name").status().code(), Status::Code::kNotFound);
  Result<ClassRecord> got = store->Get("Zoë");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->examples, Concat({kR1, kR3}));
  EXPECT_EQ(got->version, 1u);  // a rename moves the file, it does not rewrite it

  ASSERT_TRUE(store->Remove("Zoë").ok());
  EXPECT_EQ(store->Get("Zoë").status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store->List()->empty());
  EXPECT_EQ(store->Remove("Zoë").code(), Status::Code::kNotFound);
  EXPECT_EQ(store->Rename("Zoë", "x").code(), Status::Code::kNotFound);
}

TEST(ClassStore, UpdatePrototypeChecksTheVersionAndResetReturnsToTheAnchor) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Add("c", Concat({kR1, kR2})).ok());
  Result<ClassRecord> moved = store->UpdatePrototype("c", {0.6f, 0.4f, 0, 0}, 1);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->version, 2u);
  EXPECT_EQ(moved->refinements, 1);
  Result<ClassRecord> got = store->Get("c");
  ExpectFloats({0.6f, 0.4f, 0, 0}, got->prototype);
  ExpectFloats({0.5f, 0.5f, 0, 0}, got->anchor);
  EXPECT_EQ(got->examples, Concat({kR1, kR2}));

  // A writer that read version 1 is told the class moved on.
  const auto before = Snapshot(dir.path());
  Status stale = store->UpdatePrototype("c", {1, 0, 0, 0}, 1).status();
  EXPECT_EQ(stale.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(stale.message().find("version 2"), std::string::npos) << stale.message();
  EXPECT_EQ(before, Snapshot(dir.path()));

  Result<ClassRecord> reset = store->Reset("c");
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ(reset->version, 3u);
  EXPECT_EQ(reset->refinements, 0);
  ExpectFloats({0.5f, 0.5f, 0, 0}, store->Get("c")->prototype);

  // An enrolment after refinement starts afresh from the new mean.
  ASSERT_TRUE(store->UpdatePrototype("c", {0.6f, 0.4f, 0, 0}, 3).ok());
  ASSERT_TRUE(store->Add("c", kR3).ok());
  got = store->Get("c");
  EXPECT_EQ(got->refinements, 0);
  ExpectFloats({1 / 3.f, 1 / 3.f, 0.2f, 0.8f / 3}, got->prototype);
  ExpectFloats(got->prototype, got->anchor);
}

TEST(ClassStore, OpeningCreatesTheStoreDescriptionOnce) {
  ScratchDir dir;
  ASSERT_TRUE(OpenStore(dir / "s"));
  const std::string description = FileBytes(dir / "s/store.json");
  EXPECT_NE(description.find("\"embedder\": \"0123456789abcdef:fc_input\""), std::string::npos)
      << description;
  EXPECT_NE(description.find("\"dim\": 4"), std::string::npos) << description;
  ASSERT_TRUE(OpenStore(dir / "s"));
  EXPECT_EQ(description, FileBytes(dir / "s/store.json"));
  // An empty directory made by the user becomes a store too.
  ASSERT_EQ(::mkdir((dir / "empty").c_str(), 0755), 0);
  EXPECT_TRUE(OpenStore(dir / "empty"));
}

// Each bad input: an error whose message names the problem, and not one byte of the store (or
// of the directory beside it) changed.
TEST(ClassStore, BadInputIsAClearErrorAndChangesNoFile) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Add("alice", Concat({kR1, kR2})).ok());
  ASSERT_TRUE(store->Add("bob", kR3).ok());
  ASSERT_TRUE(::mkdir((dir / "not a store").c_str(), 0755) == 0);
  WriteBytes(dir / "not a store/notes.txt", "mine");

  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    std::function<Status()> call;
    const char* message;  // a part of the error's message
  };
  const std::vector<Case> cases = {
      {"slash", [&] { return store->Add("a/b", kR1).status(); }, "'/', a path character"},
      {"dot dot", [&] { return store->Add("..", kR1).status(); }, "is a path"},
      {"escape", [&] { return store->Add("../alice", kR1).status(); }, "path character"},
      {"backslash", [&] { return store->Add("a\\b", kR1).status(); }, "path character"},
      {"hidden", [&] { return store->Add(".x", kR1).status(); }, "starts with '.'"},
      {"empty", [&] { return store->Add("", kR1).status(); }, "may not be empty"},
      {"space", [&] { return store->Add("x ", kR1).status(); }, "ends in a space"},
      {"control", [&] { return store->Add("a\nb", kR1).status(); }, "control character"},
      {"not utf-8", [&] { return store->Add("a\xff", kR1).status(); }, "not UTF-8"},
      {"long", [&] { return store->Add(std::string(129, 'x'), kR1).status(); }, "128 bytes"},
      {"wrong size",
       [&] {
         return store->Add("alice", {1, 0, 0}).status();
       },
       "dimension 4"},
      {"no values", [&] { return store->Add("alice", {}).status(); }, "dimension 4"},
      {"nan",
       [&] {
         return store->Add("alice", {nan, 0, 0, 1}).status();
       },
       "not finite"},
      {"inf",
       [&] {
         return store->Add("bob", {inf, 0, 0, 0}).status();
       },
       "not finite"},
      {"not unit",
       [&] {
         return store->Add("bob", {2, 0, 0, 0}).status();
       },
       "L2 norm 2"},
      {"second row not unit",
       [&] {
         return store->Add("bob", {1, 0, 0, 0, 0, 0, 0, 0}).status();
       },
       "embedding 1"},
      {"metadata",
       [&] {
         return store->Add("bob", kR1, {{"k", "\xc3"}}).status();
       },
       "UTF-8"},
      {"prototype size",
       [&] {
         return store->UpdatePrototype("alice", {1, 0}, 1).status();
       },
       "dimension 4"},
      {"prototype nan",
       [&] {
         return store->UpdatePrototype("alice", {nan, 0, 0, 0}, 1).status();
       },
       "finite"},
      {"update missing", [&] { return store->UpdatePrototype("carol", kR1, 1).status(); },
       "no class 'carol'"},
      {"reset missing", [&] { return store->Reset("carol").status(); }, "no class 'carol'"},
      {"rename onto", [&] { return store->Rename("alice", "bob"); }, "'bob' already exists"},
      {"rename onto itself", [&] { return store->Rename("alice", "alice"); }, "already exists"},
      {"rename to a path", [&] { return store->Rename("alice", "../a"); }, "path character"},
      {"remove a path", [&] { return store->Remove("../s"); }, "path character"},
      {"get a path", [&] { return store->Get("/etc/passwd").status(); }, "path character"},
      {"other embedder", [&] { return ClassStore::Open(dir / "s", "feedbeef:out", 4).status(); },
       "holds embeddings of '0123456789abcdef:fc_input' (dim 4), not of 'feedbeef:out' (dim 4)"},
      {"other dim", [&] { return ClassStore::Open(dir / "s", kEmbedder, 8).status(); },
       "(dim 4), not of '0123456789abcdef:fc_input' (dim 8)"},
      {"not a store", [&] { return ClassStore::Open(dir / "not a store", kEmbedder, 4).status(); },
       "is not a class store"},
      {"not a store, existing",
       [&] { return ClassStore::OpenExisting(dir / "not a store").status(); },
       "is not a class store"},
      {"a file",
       [&] { return ClassStore::Open(dir / "not a store/notes.txt", kEmbedder, 4).status(); },
       "not a directory"},
      {"no embedder", [&] { return ClassStore::Open(dir / "s", "", 4).status(); }, "identity"},
      {"max_examples",
       [&] { return ClassStore::Open(dir / "s", kEmbedder, 4, {.max_examples = 0}).status(); },
       "max_examples"},
  };
  const auto before = Snapshot(dir.path());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Status s = c.call();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
    EXPECT_EQ(before, Snapshot(dir.path()));
  }
}

TEST(ClassStore, EveryDamagedByteOfAClassFileIsReportedAsCorrupt) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Add("ok", kR1).ok());
  ASSERT_TRUE(store->Add("victim", Concat({kR2, kR3}), {{"k", "v"}}).ok());
  const std::string path = dir / "s/classes/victim.class";
  const std::string good = FileBytes(path);
  ASSERT_GT(good.size(), 100u);
  // One byte flipped anywhere (magic, length, header, arrays, the CRC itself), or the file cut
  // short: never read as a class. Flipped in place: rewriting the file each time is slow.
  auto expect_corrupt = [&](const std::string& at) {
    Result<ClassRecord> r = store->Get("victim");
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_EQ(r.status().code(), Status::Code::kInternal) << r.status().ToString();
    EXPECT_NE(r.status().message().find("victim.class' is corrupt"), std::string::npos)
        << r.status().message();
  };
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    for (size_t i = 0; i < good.size(); ++i) {
      file.seekp(static_cast<std::streamoff>(i));
      file.put(static_cast<char>(good[i] ^ 0x10)).flush();
      expect_corrupt("byte " + std::to_string(i));
      file.seekp(static_cast<std::streamoff>(i));
      file.put(good[i]).flush();
    }
  }
  ASSERT_TRUE(store->Get("victim").ok());
  WriteBytes(path, good.substr(0, good.size() / 2));
  expect_corrupt("cut short");
  std::string flipped = good;
  flipped[good.size() - 10] ^= 0x01;
  WriteBytes(path, flipped);
  // Listing names the damaged file rather than skipping it; writing to it is refused.
  Status listed = store->List().status();
  EXPECT_NE(listed.message().find("victim.class' is corrupt: checksum mismatch"), std::string::npos)
      << listed.ToString();
  const auto before = Snapshot(dir.path());
  EXPECT_FALSE(store->Add("victim", kR1).ok());
  EXPECT_FALSE(store->Reset("victim").ok());
  EXPECT_EQ(before, Snapshot(dir.path()));
  EXPECT_TRUE(store->Get("ok").ok());
  // The damaged class can still be removed, which mends the store.
  ASSERT_TRUE(store->Remove("victim").ok());
  EXPECT_EQ(store->List()->size(), 1u);
}

TEST(ClassStore, LeftoverTemporariesAreIgnoredByReadersAndRemovedByTheNextWriter) {
  ScratchDir dir;
  auto store = OpenStore(dir / "s");
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Add("a", kR1).ok());
  // What a writer killed before its rename leaves: a partial file under a temporary name.
  const std::string temp = dir / "s/classes/a.class.tmp.4242.00000000deadbeef";
  WriteBytes(temp, FileBytes(dir / "s/classes/a.class").substr(0, 20));
  Result<std::vector<ClassRecord>> list = store->List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 1u);
  ASSERT_TRUE(store->Add("b", kR2).ok());
  EXPECT_FALSE(std::filesystem::exists(temp));
}

// Two stores on one directory, each in its own thread, adding to one class: the lock makes each
// read-modify-write whole, so every example of both arrives.
TEST(ClassStore, TwoWritersOfOneClassLoseNoExample) {
  ScratchDir dir;
  constexpr int kEach = 12;
  auto writer = [&](int tag) {
    auto store = OpenStore(dir / "s", {.max_examples = 1000});
    ASSERT_TRUE(store);
    for (int i = 0; i < kEach; ++i) {
      const float angle = static_cast<float>(tag * 100 + i) * 1e-3f;
      ASSERT_TRUE(store->Add("shared", {std::cos(angle), std::sin(angle), 0, 0}).ok());
    }
  };
  // Both make the store too: its creation is under the lock as well.
  std::thread one(writer, 1), two(writer, 2);
  one.join();
  two.join();
  Result<ClassRecord> got = OpenStore(dir / "s")->Get("shared");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->count, 2 * kEach);
  EXPECT_EQ(got->version, 2u * kEach);
  std::multiset<int> seen;
  for (int64_t r = 0; r < got->num_examples(4); ++r)
    seen.insert(static_cast<int>(
        std::lround(std::atan2(got->examples[r * 4 + 1], got->examples[r * 4]) * 1e3)));
  std::multiset<int> expected;
  for (int tag : {1, 2})
    for (int i = 0; i < kEach; ++i) expected.insert(tag * 100 + i);
  EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace supernova::learn
