// JSON output with correct escaping.
#include "bark/core/json_writer.hpp"

#include <charconv>

#include "bark/core/utf8.hpp"

namespace bark {

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    const bool utf8 = is_valid_utf8(s);
    out.reserve(out.size() + s.size() + 2);
    out.push_back('"');
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (u < 0x20) {
                    out += "\\u00";
                    out.push_back(hex[u >> 4]);
                    out.push_back(hex[u & 0xf]);
                } else if (u >= 0x80 && !utf8) {
                    out += "\\ufffd";
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

void json_writer::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_.empty()) {
        if (!first_.back()) {
            out_.push_back(',');
        }
        first_.back() = false;
    }
}

json_writer& json_writer::begin_object() {
    before_value();
    out_.push_back('{');
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_object() {
    out_.push_back('}');
    first_.pop_back();
    return *this;
}

json_writer& json_writer::begin_array() {
    before_value();
    out_.push_back('[');
    first_.push_back(true);
    return *this;
}

json_writer& json_writer::end_array() {
    out_.push_back(']');
    first_.pop_back();
    return *this;
}

json_writer& json_writer::key(std::string_view k) {
    before_value();
    append_json_string(out_, k);
    out_.push_back(':');
    after_key_ = true;
    return *this;
}

json_writer& json_writer::value(std::string_view s) {
    before_value();
    append_json_string(out_, s);
    return *this;
}

json_writer& json_writer::value(std::int64_t n) {
    before_value();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, r.ptr);
    return *this;
}

json_writer& json_writer::value(bool b) {
    before_value();
    out_ += b ? "true" : "false";
    return *this;
}

json_writer& json_writer::null() {
    before_value();
    out_ += "null";
    return *this;
}

json_writer& json_writer::raw(std::string_view json) {
    before_value();
    out_.append(json);
    return *this;
}

}  // namespace bark
