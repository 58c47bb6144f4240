#pragma once
/**
 * Result<T>: a value or an Error, shaped like std::expected (C++23) so that it can become that
 * later. Library code returns it instead of throwing (STYLE.md, Errors).
 */
#include <cassert>
#include <utility>
#include <variant>

#include "pki/error.h"

namespace enroll::pki {

/** Wraps an Error so that `return Unexpected(err)` reads like std::unexpected. */
struct Unexpected {
  Error error;
  explicit Unexpected(Error e) : error(std::move(e)) {}
};

/** A value of type T or an Error. */
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Unexpected u) : v_(std::move(u.error)) {}  // NOLINT(google-explicit-constructor)
  Result(Error e) : v_(std::move(e)) {}             // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

/** Result<void>: success or an Error. */
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT
  Result(Error e) : err_(std::move(e)), ok_(false) {}             // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return err_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(err_);
  }

 private:
  Error err_;
  bool ok_ = true;
};

/** Success value for Result<void>. */
inline Result<void> ok() { return {}; }

}  // namespace enroll::pki

// NOLINTBEGIN(bugprone-macro-parentheses): decl is a declaration and cannot be parenthesized.
/** Propagates an error: `ENROLL_TRY(auto x, f());` */
#define ENROLL_CONCAT_INNER(a, b) a##b
#define ENROLL_CONCAT(a, b) ENROLL_CONCAT_INNER(a, b)
#define ENROLL_TRY(decl, expr) ENROLL_TRY_IMPL(ENROLL_CONCAT(enroll_try_, __LINE__), decl, expr)
#define ENROLL_TRY_IMPL(tmp, decl, expr)                                          \
  auto tmp = (expr);                                                              \
  if (!tmp.has_value()) return ::enroll::pki::Unexpected(std::move(tmp).error()); \
  decl = std::move(tmp).value()
/** Propagates the error of a Result<void>. */
#define ENROLL_CHECK(expr)                                                \
  do {                                                                    \
    auto enroll_check_ = (expr);                                          \
    if (!enroll_check_.has_value())                                       \
      return ::enroll::pki::Unexpected(std::move(enroll_check_).error()); \
  } while (0)
// NOLINTEND(bugprone-macro-parentheses)
