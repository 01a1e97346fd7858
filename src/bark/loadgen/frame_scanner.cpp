#include "bark/loadgen/frame_scanner.hpp"

#include <charconv>
#include <cstring>

namespace bark::loadgen {
namespace {

server_command classify(std::string_view c) {
    if (c == "MESSAGE") return server_command::message;
    if (c == "RECEIPT") return server_command::receipt;
    if (c == "CONNECTED") return server_command::connected;
    if (c == "ERROR") return server_command::error;
    return server_command::other;
}

std::string_view strip_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

frame_scanner::step frame_scanner::parse_one(std::string_view s, std::size_t& consumed, frame_sink& sink) {
    std::size_t pos = 0;
    // EOLs between frames are heart-beats.
    while (pos < s.size() && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < s.size() && s[pos + 1] == '\n'))) {
        pos += s[pos] == '\r' ? 2 : 1;
        sink.on_heartbeat();
    }
    consumed = pos;
    if (pos == s.size() || (s.size() - pos == 1 && s[pos] == '\r')) return step::need_more;

    frame_view f;
    bool first = true;
    bool has_length = false;
    std::size_t length = 0;
    for (;;) {
        const std::size_t nl = s.find('\n', pos);
        if (nl == std::string_view::npos) return s.size() - consumed > max_frame_ ? step::bad : step::need_more;
        const std::string_view line = strip_cr(s.substr(pos, nl - pos));
        pos = nl + 1;
        if (first) {
            if (line.empty()) return step::bad;
            f.command = line;
            f.cmd = classify(line);
            first = false;
            continue;
        }
        if (line.empty()) break;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return step::bad;
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = line.substr(colon + 1);
        // The first occurrence of a header wins (STOMP 1.2).
        if (name == "destination" && f.destination.data() == nullptr) {
            f.destination = value;
        } else if (name == "receipt-id" && f.receipt_id.data() == nullptr) {
            f.receipt_id = value;
        } else if (name == "message" && f.message.data() == nullptr) {
            f.message = value;
        } else if (name == "heart-beat" && f.heart_beat.data() == nullptr) {
            f.heart_beat = value;
        } else if (name == "content-length" && !has_length) {
            const auto r = std::from_chars(value.data(), value.data() + value.size(), length);
            if (r.ec != std::errc() || r.ptr != value.data() + value.size()) return step::bad;
            has_length = true;
        }
    }
    std::size_t end = 0;
    if (has_length) {
        if (length > max_frame_) return step::bad;
        if (s.size() < pos + length + 1) return step::need_more;
        if (s[pos + length] != '\0') return step::bad;
        f.body = s.substr(pos, length);
        end = pos + length + 1;
    } else {
        const void* z = std::memchr(s.data() + pos, '\0', s.size() - pos);
        if (z == nullptr) return s.size() - consumed > max_frame_ ? step::bad : step::need_more;
        const auto zpos = static_cast<std::size_t>(static_cast<const char*>(z) - s.data());
        f.body = s.substr(pos, zpos - pos);
        end = zpos + 1;
    }
    consumed = end;
    return sink.on_frame(f) ? step::done : step::stopped;
}

// Scans whole frames from s; used = bytes consumed. False on a bad frame or a stop.
bool frame_scanner::scan(std::string_view s, std::size_t& used, frame_sink& sink) {
    used = 0;
    for (;;) {
        std::size_t consumed = 0;
        const step st = parse_one(s.substr(used), consumed, sink);
        used += consumed;
        switch (st) {
            case step::done:
                continue;
            case step::need_more:
            case step::stopped:
                return true;
            case step::bad:
                failed_ = true;
                return false;
        }
    }
}

bool frame_scanner::feed(std::string_view data, frame_sink& sink) {
    if (failed_) return false;
    std::size_t used = 0;
    if (buf_.empty()) {
        // The common case: whole frames in one message, scanned in place.
        if (!scan(data, used, sink)) return false;
        if (used < data.size()) buf_.assign(data.substr(used));
        return true;
    }
    buf_.append(data);
    if (!scan(buf_, used, sink)) return false;
    buf_.erase(0, used);
    return true;
}

}  // namespace bark::loadgen
