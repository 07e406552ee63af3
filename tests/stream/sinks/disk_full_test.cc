// The JSON-lines sink on a disk that fills: /dev/full (every write ENOSPC) and a file under a
// size limit (RLIMIT_FSIZE in a child process, SIGXFSZ ignored: EFBIG). Frames that cannot be
// written are dropped and counted with the reason, Write still succeeds (the pipeline and the
// other sinks go on), the file holds only whole lines, and it resumes when there is room.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "stream/sinks.h"
#include "stream/sinks/sink_test_util.h"

namespace supernova::stream {
namespace {

using supernova::testing::MakeResult;
using supernova::testing::TempDir;

TEST(JsonLinesSinkDiskFull, DevFullDropsEveryFrameWithTheReason) {
  auto sink = OpenSink("jsonl:/dev/full", {});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  for (int64_t i = 0; i < 5; ++i) EXPECT_TRUE((*sink)->Write(MakeResult(i)).ok());
  const SinkStats stats = (*sink)->stats();
  EXPECT_EQ(stats.frames, 0);
  EXPECT_EQ(stats.dropped_write_error, 5);
  EXPECT_NE(stats.last_error.find("/dev/full"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("No space left on device"), std::string::npos)
      << stats.last_error;
  EXPECT_TRUE((*sink)->Close().ok());
}

// What the child checks, as its exit code: 0 when all held.
enum ChildResult { kOk = 0, kOpen, kWriteFailed, kNothingDropped, kWrongReason, kNoRecovery };

int WriteUnderSizeLimit(const std::string& path, rlim_t limit) {
  signal(SIGXFSZ, SIG_IGN);  // else the kernel kills the writer at the limit
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = limit;
  if (setrlimit(RLIMIT_FSIZE, &small) != 0) return kOpen;
  auto sink = OpenSink(path, {});
  if (!sink.ok()) return kOpen;
  for (int64_t i = 0; i < 20; ++i)
    if (!(*sink)->Write(MakeResult(i)).ok()) return kWriteFailed;
  const SinkStats full = (*sink)->stats();
  if (full.dropped_write_error == 0) return kNothingDropped;
  if (full.last_error.find("File too large") == std::string::npos) return kWrongReason;
  setrlimit(RLIMIT_FSIZE, &old);  // room again: the soft limit back up to the hard one
  for (int64_t i = 20; i < 25; ++i)
    if (!(*sink)->Write(MakeResult(i)).ok()) return kWriteFailed;
  const SinkStats after = (*sink)->stats();
  if (after.frames != full.frames + 5 || after.dropped_write_error != full.dropped_write_error)
    return kNoRecovery;
  return (*sink)->Close().ok() ? kOk : kWriteFailed;
}

TEST(JsonLinesSinkDiskFull, FileSizeLimitKeepsWholeLinesAndResumes) {
  TempDir dir;
  const std::string path = dir.File("limited.jsonl");
  // A few records' worth: the limit falls inside a line, whose part must not stay.
  const size_t record = JsonLinesRecord(MakeResult(0), {}).size() + 1;
  const rlim_t limit = static_cast<rlim_t>(3 * record + record / 2);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(WriteUnderSizeLimit(path, limit));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the writer died of signal " << WTERMSIG(status);
  ASSERT_EQ(WEXITSTATUS(status), kOk) << "ChildResult " << WEXITSTATUS(status);

  std::ifstream in(path);
  std::vector<int64_t> frames;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "a broken line: " << line;
    frames.push_back(j["frame"].get<int64_t>());
  }
  // The first three fit; 3..19 were dropped at the limit; 20..24 came after the room returned.
  EXPECT_EQ(frames, (std::vector<int64_t>{0, 1, 2, 20, 21, 22, 23, 24}));
}

}  // namespace
}  // namespace supernova::stream
