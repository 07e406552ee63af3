// The file operations the class store's crash safety rests on (class_store.h): a file is
// replaced by writing a temporary beside it, fsync'ing it, renaming it over the old name and
// fsync'ing the directory, so whatever kills the writer, the name holds the old bytes or the new
// ones. A writer killed before the rename leaves its temporary behind; temporaries have a name
// no store file has (`<file>.tmp.<pid>.<16 hex>`), so readers never open them, and the next
// writer removes them while it holds the store's lock (no live writer can own one then).
#pragma once

#include <string>
#include <string_view>

#include "supernova/status.h"

namespace supernova::learn::durable {

// `dir`/`name` holds `bytes` afterwards, atomically and durably (see above). On failure the old
// file is untouched and the temporary removed.
Status ReplaceFile(const std::string& dir, const std::string& name, std::string_view bytes);

// The whole file; NotFound (and only then) when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// fsync of a directory, so that the names created, renamed or removed in it persist.
Status SyncDir(const std::string& dir);

// Renames `dir`/`from` to `dir`/`to` and syncs `dir`; AlreadyExists when `to` exists, which is
// never replaced (renameat2 RENAME_NOREPLACE, or link + unlink where the filesystem lacks it:
// a crash between those two leaves the file under both names, never under neither).
Status RenameNoReplace(const std::string& dir, const std::string& from, const std::string& to);

// Removes `dir`/`name` and syncs `dir`; NotFound when it does not exist.
Status RemoveFile(const std::string& dir, const std::string& name);

// Whether `file_name` is a temporary ReplaceFile makes.
bool IsTempName(std::string_view file_name);
// Removes every temporary in `dir`. Only while holding the lock all writers take: a temporary
// found then belongs to a writer that died.
Status RemoveTempFiles(const std::string& dir);

// An exclusive flock on a lock file (created if absent), released when destroyed. Each
// acquisition opens the file afresh, so two holders in one process exclude each other as two
// processes do; a killed holder's lock goes with its process.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace supernova::learn::durable
