// The class store on a disk that fills: a write past a file size limit (RLIMIT_FSIZE in a child
// process, SIGXFSZ ignored, so write(2) fails with EFBIG as on a full disk) fails with the
// system's reason and leaves every file as it was: the old class whole, no temporary left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "learn/class_store.h"
#include "learn/store_test_util.h"

// A namespace of its own: the learn tests are compiled several files to a unit.
namespace supernova::learn::disk_full_test {
namespace {

using store_test::Concat;
using store_test::ScratchDir;
using store_test::Snapshot;

constexpr const char* kEmbedder = "0123456789abcdef:fc_input";
const std::vector<float> kR1 = {1, 0, 0, 0}, kR2 = {0, 1, 0, 0};

// What the child found, as its exit code.
enum ChildResult { kOk = 0, kOpenFailed, kWriteSucceeded, kWrongReason };

int AddPastTheLimit(const std::string& dir, rlim_t limit) {
  signal(SIGXFSZ, SIG_IGN);
  rlimit lim{};
  getrlimit(RLIMIT_FSIZE, &lim);
  lim.rlim_cur = limit;
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0) return kOpenFailed;
  auto store = ClassStore::Open(dir, kEmbedder, 4);
  if (!store.ok()) return kOpenFailed;
  // Many more examples: the class file grows past the limit.
  std::vector<std::vector<float>> rows(64, kR2);
  Result<ClassRecord> r = (*store)->Add("alice", Concat(rows));
  if (r.ok()) return kWriteSucceeded;
  return r.status().message().find("File too large") != std::string::npos ? kOk : kWrongReason;
}

TEST(ClassStoreDiskFull, AFailedWriteLeavesTheOldClassWholeAndSaysWhy) {
  ScratchDir dir;
  const std::string store_dir = dir / "s";
  {
    auto store = ClassStore::Open(store_dir, kEmbedder, 4);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Add("alice", Concat({kR1, kR2})).ok());
  }
  const auto before = Snapshot(dir.path());
  size_t largest = 0;
  for (const auto& [path, bytes] : before) largest = std::max(largest, bytes.size());

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  // Room for files as large as today's, not for the grown class.
  if (pid == 0) _exit(AddPastTheLimit(store_dir, static_cast<rlim_t>(largest + 64)));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer died of signal " << WTERMSIG(status);
  ASSERT_EQ(WEXITSTATUS(status), kOk) << "ChildResult " << WEXITSTATUS(status);

  EXPECT_EQ(before, Snapshot(dir.path())) << "a failed write changed or left a file";
  auto store = ClassStore::OpenExisting(store_dir);
  ASSERT_TRUE(store.ok());
  Result<ClassRecord> alice = (*store)->Get("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->version, 1u);
  EXPECT_EQ(alice->examples, Concat({kR1, kR2}));
}

}  // namespace
}  // namespace supernova::learn::disk_full_test
