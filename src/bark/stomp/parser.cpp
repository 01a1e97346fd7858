// Incremental STOMP frame parser. A head (command and header lines) that arrives whole inside one
// feed is parsed straight from the caller's bytes; only a head split across feeds is buffered.
// Body bytes go straight into the frame being built.
#include "bark/stomp/parser.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "bark/stomp/escaping.hpp"

namespace bark::stomp {

namespace {

constexpr std::size_t keep_head_capacity = 4096;  // larger head buffers are released after use

const char* find(const char* p, const char* end, char c) {
    return static_cast<const char*>(std::memchr(p, c, static_cast<std::size_t>(end - p)));
}

// Decimal digits only: no sign, no spaces, not empty, no overflow.
bool parse_length(std::string_view s, std::size_t& out) {
    if (s.empty()) {
        return false;
    }
    std::size_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        const auto d = static_cast<std::size_t>(c - '0');
        if (n > (std::numeric_limits<std::size_t>::max() - d) / 10) {
            return false;
        }
        n = n * 10 + d;
    }
    out = n;
    return true;
}

// Copies a header field, decoding escapes when the frame uses them; false on a bad escape.
bool take_field(std::string_view raw, bool escape, version v, std::string& out) {
    if (escape && std::memchr(raw.data(), '\\', raw.size()) != nullptr) {
        auto decoded = unescape_header(raw, v);
        if (!decoded) {
            return false;
        }
        out = std::move(*decoded);
        return true;
    }
    out.assign(raw);
    return true;
}

}  // namespace

std::string_view error_code(parse_error e) {
    switch (e) {
        case parse_error::none: return "";
        case parse_error::malformed_frame: return "malformed-frame";
        case parse_error::unknown_command: return "unknown-command";
        case parse_error::frame_too_large: return "frame-too-large";
        case parse_error::too_many_headers: return "too-many-headers";
        case parse_error::header_too_long: return "header-too-long";
        case parse_error::bad_escape: return "bad-escape";
        case parse_error::bad_content_length: return "bad-content-length";
    }
    return "";
}

parser::parser(parser_limits limits) : limits_(limits) {}

std::size_t parser::buffered_bytes() const {
    return phase_ == phase::head ? head_buf_.size() : head_bytes_ + pending_.body.size();
}

parse_error parser::fail(parse_error e) {
    failed_ = e;
    head_buf_ = std::string{};
    pending_ = frame{};
    return e;
}

void parser::reset_frame() {
    phase_ = phase::head;
    line_len_ = 0;
    line_cr_ = false;
    lines_ = 0;
    head_bytes_ = 0;
    has_length_ = false;
    body_left_ = 0;
}

// Walks the head line by line with memchr, carrying the current line and the frame size across
// calls. Limits are checked at the exact byte that breaks them, so the outcome does not depend on
// how the input was split.
parser::scan_result parser::scan_head(std::string_view data) {
    scan_result r;
    const char* const base = data.data();
    const std::size_t n = data.size();
    const std::size_t line_max = limits_.max_header_line;
    const std::size_t frame_max = limits_.max_frame_bytes;
    std::size_t pos = 0;
    while (pos < n) {
        const char* const q = base + pos;
        const char* const nl = find(q, base + n, '\n');
        const std::size_t s = nl != nullptr ? static_cast<std::size_t>(nl - q) : n - pos;
        if (s > 0) {
            // 1-based index in q of the byte that breaks each limit, 0 when none does. A line may
            // hold max_header_line + 1 bytes while the last one is a '\r' that may end it.
            std::size_t line_trip = 0;
            if (line_len_ + s > line_max) {
                if (line_len_ > line_max) {
                    line_trip = 1;
                } else {
                    const std::size_t k = line_max + 1 - line_len_;
                    if (q[k - 1] != '\r') {
                        line_trip = k;
                    } else if (s > k) {
                        line_trip = k + 1;
                    }
                }
            }
            std::size_t frame_trip = 0;
            if (head_bytes_ + s > frame_max) {
                frame_trip = frame_max - head_bytes_ + 1;
            }
            if (line_trip != 0 && (frame_trip == 0 || line_trip <= frame_trip)) {
                r.error = parse_error::header_too_long;
                return r;
            }
            if (frame_trip != 0) {
                r.error = parse_error::frame_too_large;
                return r;
            }
            line_len_ += s;
            line_cr_ = q[s - 1] == '\r';
            head_bytes_ += s;
        }
        if (nl == nullptr) {
            break;
        }
        pos += s + 1;
        const bool empty = line_len_ == (line_cr_ ? 1U : 0U);
        line_len_ = 0;
        line_cr_ = false;
        if (empty && lines_ == 0) {
            // An EOL before the command line is a heart-beat, not part of any frame.
            head_bytes_ = 0;
            r.start = pos;
            continue;
        }
        if (head_bytes_ >= frame_max) {
            r.error = parse_error::frame_too_large;
            return r;
        }
        ++head_bytes_;
        if (empty) {
            r.head_done = true;
            r.end = pos;
            return r;
        }
        if (++lines_ > limits_.max_headers + 1) {
            r.error = parse_error::too_many_headers;
            return r;
        }
    }
    return r;
}

// head holds the command line, the header lines and the blank line, each ending in '\n'.
parse_error parser::parse_head(std::string_view head) {
    const char* p = head.data();
    const char* const end = p + head.size();
    const auto next_line = [&p, end]() {
        const char* const nl = find(p, end, '\n');  // scan_head saw every terminator
        std::string_view line{p, static_cast<std::size_t>(nl - p)};
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        p = nl + 1;
        return line;
    };

    const auto cmd = parse_command(next_line());
    if (!cmd) {
        return parse_error::unknown_command;
    }
    // CONNECT, STOMP and CONNECTED carry the version negotiation, so they are never escaped.
    const bool escape = version_ != version::v1_0 && *cmd != command::connect && *cmd != command::stomp &&
                        *cmd != command::connected;
    pending_.cmd = *cmd;
    pending_.headers.reserve(lines_ - 1);
    has_length_ = false;
    for (std::size_t i = 1; i < lines_; ++i) {
        const std::string_view line = next_line();
        const char* const colon = find(line.data(), line.data() + line.size(), ':');
        if (colon == nullptr || colon == line.data()) {
            return parse_error::malformed_frame;
        }
        const auto name_size = static_cast<std::size_t>(colon - line.data());
        header& h = pending_.headers.emplace_back();
        if (!take_field(line.substr(0, name_size), escape, version_, h.name) ||
            !take_field(line.substr(name_size + 1), escape, version_, h.value)) {
            return parse_error::bad_escape;
        }
        if (!has_length_ && h.name == "content-length") {
            if (!parse_length(h.value, body_left_)) {
                return parse_error::bad_content_length;
            }
            has_length_ = true;
        }
    }
    if (has_length_) {
        // Refuse at once rather than wait for bytes that would be refused anyway.
        if (body_left_ > limits_.max_frame_bytes - head_bytes_) {
            return parse_error::frame_too_large;
        }
        pending_.body.reserve(body_left_);
    }
    return parse_error::none;
}

parse_error parser::feed(std::string_view data, frame_handler& h) {
    if (failed_ != parse_error::none) {
        return failed_;
    }
    if (stopped_) {
        return parse_error::none;
    }
    while (!data.empty()) {
        if (phase_ == phase::head) {
            const scan_result r = scan_head(data);
            if (r.error != parse_error::none) {
                return fail(r.error);
            }
            if (r.start > 0) {
                head_buf_.clear();  // it held at most the '\r' of a heart-beat
            }
            const std::string_view rest = data.substr(r.start);
            if (!r.head_done) {
                head_buf_.append(rest);  // bounded: scan_head enforced the limits on these bytes
                return parse_error::none;
            }
            std::string_view head = rest.substr(0, r.end - r.start);
            if (!head_buf_.empty()) {
                head_buf_.append(head);
                head = head_buf_;
            }
            data.remove_prefix(r.end);
            const parse_error e = parse_head(head);
            if (e != parse_error::none) {
                return fail(e);
            }
            if (head_buf_.capacity() > keep_head_capacity) {
                head_buf_ = std::string{};
            } else {
                head_buf_.clear();
            }
            phase_ = phase::body;
            continue;
        }

        if (has_length_) {
            if (body_left_ > 0) {
                const std::size_t n = std::min(body_left_, data.size());
                pending_.body.append(data.data(), n);
                body_left_ -= n;
                data.remove_prefix(n);
            }
            if (data.empty()) {
                break;
            }
            if (data.front() != '\0') {
                return fail(parse_error::malformed_frame);
            }
        } else {
            const char* const nul = find(data.data(), data.data() + data.size(), '\0');
            const std::size_t n = nul != nullptr ? static_cast<std::size_t>(nul - data.data()) : data.size();
            if (n > limits_.max_frame_bytes - head_bytes_ - pending_.body.size()) {
                return fail(parse_error::frame_too_large);
            }
            pending_.body.append(data.data(), n);
            data.remove_prefix(n);
            if (nul == nullptr) {
                break;
            }
        }
        data.remove_prefix(1);  // the NUL ending the frame

        frame done = std::move(pending_);
        pending_ = frame{};
        reset_frame();
        if (!h.on_frame(std::move(done))) {
            stopped_ = true;
            head_buf_ = std::string{};
            return parse_error::none;
        }
    }
    return parse_error::none;
}

}  // namespace bark::stomp
