// Status, Result<T> and Error: how every level of lmaas reports failure.
// - Code is the one error vocabulary; serve/ maps it to HTTP in one function.
// - Parsers and I/O return Status / Result<T> and never throw through their API.
// - Programming errors on engine calls (wrong shapes, wrong dtypes) throw lmaas::Error, which carries a
//   Code; the CLI's main turns it into an exit code.
// Messages say what failed, the offending value, what was expected, where, and a hint when there is one.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace lmaas {

enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kOutOfRange,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kUnauthenticated,
  kPermissionDenied,
  kDataLoss,
  kUnimplemented,
  kCancelled,
  kInternal,
};

const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message"
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Thrown by engine calls on misuse (shape/dtype mismatch); never thrown by parsers on bad input.
class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  explicit Error(const Status& status) : Error(status.code(), status.message()) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// A value or the Status saying why there is none. GCC 12 has no std::expected.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design, as std::expected
  Result(Status status) : data_(std::move(status)) {
    if (std::get<Status>(data_).is_ok()) data_ = Status(Code::kInternal, "Result built from an OK status");
  }

  bool is_ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & {
    if (!is_ok()) throw Error(std::get<Status>(data_));
    return std::get<T>(data_);
  }
  const T& value() const& {
    if (!is_ok()) throw Error(std::get<Status>(data_));
    return std::get<T>(data_);
  }
  T&& value() && {
    if (!is_ok()) throw Error(std::get<Status>(data_));
    return std::get<T>(std::move(data_));
  }
  T* operator->() { return &value(); }
  T& operator*() { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace lmaas

#define LMAAS_CONCAT_INNER(a, b) a##b
#define LMAAS_CONCAT(a, b) LMAAS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define LMAAS_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::lmaas::Status lmaas_status_ = (expr);      \
    if (!lmaas_status_.is_ok()) return lmaas_status_; \
  } while (0)

// `LMAAS_ASSIGN_OR_RETURN(auto x, f());` binds x to f()'s value or returns its status.
#define LMAAS_ASSIGN_OR_RETURN(lhs, expr)                                  \
  auto LMAAS_CONCAT(lmaas_result_, __LINE__) = (expr);                     \
  if (!LMAAS_CONCAT(lmaas_result_, __LINE__).is_ok())                      \
    return LMAAS_CONCAT(lmaas_result_, __LINE__).status();                 \
  lhs = std::move(LMAAS_CONCAT(lmaas_result_, __LINE__)).value()
