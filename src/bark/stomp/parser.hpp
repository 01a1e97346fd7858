// Incremental STOMP frame parser. Takes bytes in any split, yields whole frames, never touches a
// socket. Limits come from `parser_limits`; breaking one ends the stream with a `parse_error`,
// which the session turns into an ERROR frame. EOLs between frames (heart-beats) are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bark/stomp/frame.hpp"

namespace bark::stomp {

struct parser_limits {
    std::size_t max_frame_bytes = 65536;  // command + headers + body of one frame
    std::size_t max_headers = 64;         // header lines per frame
    std::size_t max_header_line = 8192;   // bytes of one header line (name, colon, value)
};

enum class parse_error {
    none,
    malformed_frame,     // no command line, header without colon, missing NUL after body...
    unknown_command,     // command line is not a STOMP command
    frame_too_large,     // frame bytes over max_frame_bytes (or content-length says so)
    too_many_headers,    // over max_headers
    header_too_long,     // a header line over max_header_line (also the command line)
    bad_escape,          // undefined escape sequence in 1.1/1.2 headers
    bad_content_length,  // content-length not a non-negative decimal integer
};

// The ERROR frame's `message` header for each error, e.g. "malformed-frame".
std::string_view error_code(parse_error e);

// Receives frames as they complete. Returning false stops the parser: the remaining input is
// dropped and later feeds do nothing (the session is closing).
class frame_handler {
public:
    virtual bool on_frame(frame&& f) = 0;

protected:
    ~frame_handler() = default;
};

class parser {
public:
    explicit parser(parser_limits limits = {});

    // Escaping rules for the frames that follow (the session calls it after CONNECT).
    void set_version(version v) { version_ = v; }
    // The frame limit of the frames that follow (a relay session's, after its CONNECT).
    void set_max_frame_bytes(std::size_t n) { limits_.max_frame_bytes = n; }

    // Feeds bytes; calls h.on_frame for each complete frame, in order. Returns the first error;
    // once an error is returned the parser stays failed and returns it again on every feed.
    parse_error feed(std::string_view data, frame_handler& h);

    // Bytes of an unfinished frame held right now (0 between frames).
    std::size_t buffered_bytes() const;

private:
    enum class phase : std::uint8_t { head, body };

    // Where scan_head stopped in the bytes it was given.
    struct scan_result {
        parse_error error = parse_error::none;
        bool head_done = false;  // the blank line ending the headers was found
        std::size_t start = 0;   // offset of the frame's first byte (after heart-beat EOLs)
        std::size_t end = 0;     // offset just past the blank line (when head_done)
    };

    scan_result scan_head(std::string_view data);
    parse_error parse_head(std::string_view head);
    parse_error fail(parse_error e);
    void reset_frame();

    parser_limits limits_;
    version version_ = version::v1_2;
    parse_error failed_ = parse_error::none;
    bool stopped_ = false;  // on_frame returned false
    phase phase_ = phase::head;

    // Head scanning state, kept across feeds: the current line and the frame so far.
    std::string head_buf_;        // start of a head that spans feeds (empty on the direct path)
    std::size_t line_len_ = 0;    // bytes of the current line seen, terminator excluded
    bool line_cr_ = false;        // the last byte of the current line is '\r'
    std::size_t lines_ = 0;       // completed non-empty lines: the command line and headers
    std::size_t head_bytes_ = 0;  // frame bytes up to here, line terminators included

    // Body state, once the head is parsed.
    frame pending_;                  // command and headers parsed; body filling up
    bool has_length_ = false;        // a content-length header was given
    std::size_t body_left_ = 0;      // body bytes still expected (content-length case)
};

}  // namespace bark::stomp
