// Errors as values at module boundaries: a `result<T>` holds a T or an `error` (a stable code and
// a readable message).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bark {

struct error {
    std::string code;     // stable, machine-readable: "not-found", "storage", ...
    std::string message;  // for people and logs
};

template <class T>
class result {
public:
    result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
    result(error e) : v_(std::move(e)) {}              // NOLINT: implicit by design

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const error& err() const { return std::get<1>(v_); }

private:
    std::variant<T, error> v_;
};

struct unit {};  // result<unit>: success without a value

}  // namespace bark
