// Status and Result<T>: how every failure a user can cause is reported.
//
//   supernova::Status s = session.Run(inputs, &outputs);
//   if (!s.ok()) std::cerr << s.ToString() << "\n";
//
// Success carries no allocation. A Status is a value: copy it, return it, compare its code.
// No exception crosses the library boundary; asserts are for programmer errors only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace supernova {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,  // the caller passed something malformed (shape, dtype, flag)
    kNotFound,         // a file, model, input or output name that does not exist
    kInvalidModel,     // the model file is malformed or inconsistent
    kUnimplemented,    // a valid request this build cannot serve (unsupported op or dtype)
    kFailedPrecondition,
    kOutOfRange,
    kResourceExhausted,
    kUnavailable,
    kDeadlineExceeded,
    kCancelled,
    kUnauthenticated,
    kPermissionDenied,
    kAlreadyExists,
    kInternal,
  };

  Status() = default;  // OK
  Status(Code code, std::string message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status InvalidModel(std::string m) { return {Code::kInvalidModel, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return state_ == nullptr; }
  Code code() const { return state_ ? state_->code : Code::kOk; }
  // The message without the code name; empty for OK.
  const std::string& message() const;
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    Code code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null means OK
};

std::string_view CodeName(Status::Code code);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace supernova

#define SN_CONCAT_INNER_(a, b) a##b
#define SN_CONCAT_(a, b) SN_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` yields a non-OK Status.
#define SN_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::supernova::Status sn_status_ = (expr); \
    if (!sn_status_.ok()) return sn_status_; \
  } while (0)

// `lhs = value of expr` or return its Status. lhs may declare: SN_ASSIGN_OR_RETURN(auto x, f());
#define SN_ASSIGN_OR_RETURN(lhs, expr) \
  SN_ASSIGN_OR_RETURN_IMPL_(SN_CONCAT_(sn_result_, __LINE__), lhs, expr)
#define SN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
