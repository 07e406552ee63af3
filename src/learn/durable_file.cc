#include "learn/durable_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace supernova::learn::durable {
namespace {

Status Errno(const std::string& what, const std::string& path, int err) {
  std::string message = what + " '" + path + "': " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(message));
  if (err == EEXIST) return {Status::Code::kAlreadyExists, std::move(message)};
  if (err == EACCES || err == EPERM || err == EROFS)
    return {Status::Code::kPermissionDenied, std::move(message)};
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(std::move(message));
  return Status::Unavailable(std::move(message));
}

std::string Join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// Closes on every path out; a close error after a write is reported by Close().
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// The pid tells a reader of a directory listing which process left a temporary; the random
// part keeps two writers of one process (or a reused pid) apart.
std::string TempName(const std::string& name) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".tmp.%ld.%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(rng()));
  return name + suffix;
}

bool AllOf(std::string_view s, const char* set) {
  return !s.empty() && s.find_first_not_of(set) == std::string_view::npos;
}

}  // namespace

bool IsTempName(std::string_view file_name) {
  // <file>.tmp.<digits>.<16 hex>
  constexpr size_t kHex = 16;
  if (file_name.size() < kHex + 1) return false;
  const std::string_view hex = file_name.substr(file_name.size() - kHex);
  if (!AllOf(hex, "0123456789abcdef") || file_name[file_name.size() - kHex - 1] != '.')
    return false;
  const std::string_view rest = file_name.substr(0, file_name.size() - kHex - 1);
  const size_t tmp = rest.rfind(".tmp.");
  return tmp != std::string_view::npos && tmp > 0 && AllOf(rest.substr(tmp + 5), "0123456789");
}

Status SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open directory", dir, errno);
  // Some filesystems cannot sync a directory (EINVAL); their names are as durable as they get.
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return Errno("cannot fsync directory", dir, errno);
  return Status::Ok();
}

Status ReplaceFile(const std::string& dir, const std::string& name, std::string_view bytes) {
  const std::string target = Join(dir, name);
  std::string temp;
  int raw = -1;
  for (int attempt = 0; attempt < 8 && raw < 0; ++attempt) {
    temp = Join(dir, TempName(name));
    raw = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (raw < 0 && errno != EEXIST) return Errno("cannot create", temp, errno);
  }
  if (raw < 0) return Errno("cannot create", temp, EEXIST);
  Fd fd(raw);
  Status s = WriteAll(fd.get(), bytes, temp);
  // The data must be on disk before the rename makes it the file: otherwise a power loss could
  // leave the new name pointing at empty or partial blocks.
  if (s.ok() && ::fsync(fd.get()) != 0) s = Errno("cannot fsync", temp, errno);
  if (s.ok() && fd.Close() != 0) s = Errno("cannot close", temp, errno);
  if (s.ok() && ::rename(temp.c_str(), target.c_str()) != 0)
    s = Errno("cannot rename over", target, errno);
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  return SyncDir(dir);
}

Result<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("'" + path + "' is not a regular file");
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path, errno);
    if (n == 0) break;  // shorter than fstat said: what is there is what a reader gets
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

Status RenameNoReplace(const std::string& dir, const std::string& from, const std::string& to) {
  const std::string a = Join(dir, from), b = Join(dir, to);
  if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EINVAL && errno != ENOSYS) return Errno("cannot rename to '" + b + "'", a, errno);
    if (::link(a.c_str(), b.c_str()) != 0) return Errno("cannot link to '" + b + "'", a, errno);
    if (::unlink(a.c_str()) != 0) return Errno("cannot unlink", a, errno);
  }
  return SyncDir(dir);
}

Status RemoveFile(const std::string& dir, const std::string& name) {
  const std::string path = Join(dir, name);
  if (::unlink(path.c_str()) != 0) return Errno("cannot remove", path, errno);
  return SyncDir(dir);
}

Status RemoveTempFiles(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno("cannot list", dir, errno);
  std::vector<std::string> temps;
  while (const dirent* e = ::readdir(d))
    if (IsTempName(e->d_name)) temps.emplace_back(e->d_name);
  ::closedir(d);
  for (const std::string& t : temps) {
    const std::string path = Join(dir, t);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Errno("cannot remove leftover", path, errno);
  }
  // No sync: a temporary that comes back after a power loss is removed again next time.
  return Status::Ok();
}

Result<FileLock> FileLock::Acquire(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open lock file", path, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return Errno("cannot lock", path, err);
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor of the open file drops the flock
}

}  // namespace supernova::learn::durable
