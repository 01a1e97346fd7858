#include "bark/loadgen/frames.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace bark::loadgen {
namespace {

void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_number(std::string& out, std::int64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

constexpr std::string_view tag_prefix = "bb:";

}  // namespace

void append_tag(std::string& out, message_tag t) {
    out.append(tag_prefix);
    append_number(out, t.a);
    out.push_back('.');
    append_number(out, t.b);
    out.push_back('.');
    append_number(out, t.run);
}

std::optional<message_tag> find_tag(std::string_view body) {
    std::size_t pos = 0;
    while ((pos = body.find(tag_prefix, pos)) != std::string_view::npos) {
        const char* p = body.data() + pos + tag_prefix.size();
        const char* end = body.data() + body.size();
        message_tag t;
        const auto ra = std::from_chars(p, end, t.a);
        if (ra.ec == std::errc() && ra.ptr < end && *ra.ptr == '.') {
            const auto rb = std::from_chars(ra.ptr + 1, end, t.b);
            if (rb.ec == std::errc() && rb.ptr < end && *rb.ptr == '.' &&
                std::from_chars(rb.ptr + 1, end, t.run).ec == std::errc()) {
                return t;
            }
        }
        pos += tag_prefix.size();
    }
    return std::nullopt;
}

std::string message_text(message_tag t, std::size_t bytes) {
    std::string s;
    s.reserve(bytes + 32);
    append_tag(s, t);
    s.push_back(' ');
    static constexpr std::string_view filler = "the quick brown fox jumps over the lazy dog ";
    while (s.size() < bytes) s.append(filler.substr(0, std::min(filler.size(), bytes - s.size())));
    while (!s.empty() && s.back() == ' ') s.pop_back();  // servers may trim; keep the text stable
    return s;
}

void append_chat_body(std::string& out, std::int64_t room_id, std::string_view text, message_tag t,
                      std::string_view send_at) {
    // text and the tag are ASCII without quotes or backslashes: no escaping needed.
    out.append(R"({"roomId":)");
    append_number(out, room_id);
    out.append(R"(,"messageText":")");
    out.append(text);
    out.append(R"(","sendAt":")");
    out.append(send_at);
    out.append(R"(","clientMessageId":")");
    append_tag(out, t);
    out.append("\"}");
}

std::string iso_now() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&secs, &tm);
    char buf[96];  // room for any int the compiler imagines
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

std::string expand_room(std::string_view tmpl, std::int64_t room_id) {
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t at = tmpl.find("{room}", pos);
        out.append(tmpl.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) return out;
        append_number(out, room_id);
        pos = at + 6;
    }
}

std::string connect_frame(const connect_params& p) {
    std::string f = "CONNECT\naccept-version:1.2,1.1,1.0\nhost:";
    f.append(p.host);
    f.append("\nheart-beat:");
    f.append(p.heart_beat);
    f.push_back('\n');
    if (!p.bearer.empty()) {
        f.append("Authorization:Bearer ");
        f.append(p.bearer);
        f.push_back('\n');
    }
    if (!p.login.empty()) {
        f.append("login:");
        f.append(p.login);
        f.append("\npasscode:");
        f.append(p.passcode);
        f.push_back('\n');
    }
    f.append("\n");
    f.push_back('\0');
    return f;
}

void append_subscribe(std::string& out, std::string_view id, std::string_view destination, std::string_view receipt) {
    out.append("SUBSCRIBE\nid:");
    out.append(id);
    out.append("\ndestination:");
    out.append(destination);
    out.append("\nack:auto");
    if (!receipt.empty()) {
        out.append("\nreceipt:");
        out.append(receipt);
    }
    out.append("\n\n");
    out.push_back('\0');
}

void append_send(std::string& out, std::string_view destination, std::string_view content_type, std::string_view body,
                 std::string_view receipt) {
    out.append("SEND\ndestination:");
    out.append(destination);
    if (!receipt.empty()) {
        out.append("\nreceipt:");
        out.append(receipt);
    }
    out.append("\ncontent-type:");
    out.append(content_type);
    out.append("\ncontent-length:");
    append_number(out, static_cast<std::uint64_t>(body.size()));
    out.append("\n\n");
    out.append(body);
    out.push_back('\0');
}

void append_disconnect(std::string& out, std::string_view receipt) {
    out.append("DISCONNECT\nreceipt:");
    out.append(receipt);
    out.append("\n\n");
    out.push_back('\0');
}

}  // namespace bark::loadgen
