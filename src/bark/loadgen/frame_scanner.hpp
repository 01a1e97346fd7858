// An incremental scanner for the server frames the bench cares about (CONNECTED, MESSAGE,
// RECEIPT, ERROR). It yields views into its input (no per-frame allocation) and keeps only the
// tail of an unfinished frame between feeds. Header values are not unescaped: the bench only
// reads its own receipt ids, `heart-beat` and `message`, which never need escaping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bark::loadgen {

enum class server_command : std::uint8_t { connected, message, receipt, error, other };

struct frame_view {
    server_command cmd = server_command::other;
    std::string_view command;      // as on the wire
    std::string_view destination;  // MESSAGE
    std::string_view receipt_id;   // RECEIPT (and ERROR, when the faulty frame asked for one)
    std::string_view message;      // ERROR
    std::string_view heart_beat;   // CONNECTED
    std::string_view body;
};

class frame_sink {
public:
    // Returning false stops the scan (the connection is going away).
    virtual bool on_frame(const frame_view& f) = 0;
    virtual void on_heartbeat() {}

    virtual ~frame_sink() = default;
};

class frame_scanner {
public:
    explicit frame_scanner(std::size_t max_frame_bytes = std::size_t{16} << 20) : max_frame_(max_frame_bytes) {}

    // Scans data (any split). Returns false on a malformed frame or one over the size limit;
    // the scanner is then failed for good.
    bool feed(std::string_view data, frame_sink& sink);
    std::size_t buffered() const { return buf_.size(); }

private:
    enum class step { done, need_more, stopped, bad };
    // Parses one frame at the start of s; consumed = bytes used (heart-beat EOLs included).
    step parse_one(std::string_view s, std::size_t& consumed, frame_sink& sink);
    bool scan(std::string_view s, std::size_t& used, frame_sink& sink);

    std::string buf_;
    std::size_t max_frame_;
    bool failed_ = false;
};

}  // namespace bark::loadgen
