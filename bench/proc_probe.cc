// proc_probe -- COMMAND [ARGS...]: runs COMMAND once (its stdout and stderr to /dev/null) and
// prints one JSON object: {"wall_ms", "max_rss_mb", "exit_code"}. The footprint benchmark
// (bench/footprint.sh) measures short-lived commands with it.
//
// Why a program of its own: ru_maxrss counts the child's memory before exec too, so a child
// forked from Python (or spawned with vfork, which shares the parent's memory) reports the
// interpreter's peak, not the command's; this probe is small, so the floor it adds is about
// 1 MB, and it times from fork to reaping with a monotonic clock (GNU time's %e has
// centisecond resolution, too coarse for commands that take a few ms).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 1 && std::strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    std::fprintf(stderr, "usage: proc_probe -- COMMAND [ARGS...]\n");
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("proc_probe: fork");
    return 1;
  }
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
    }
    execvp(argv[first], argv + first);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) {
    std::perror("proc_probe: wait4");
    return 1;
  }
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // ru_maxrss is in KiB on Linux.
  std::printf("{\"wall_ms\": %.3f, \"max_rss_mb\": %.3f, \"exit_code\": %d}\n", wall_ms,
              static_cast<double>(usage.ru_maxrss) / 1024.0, code);
  return 0;
}
