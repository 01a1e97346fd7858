// The fixed documents of the SockJS protocol, IO-free: the greeting, `/info`, the iframe page and
// the htmlfile transport's opening page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bark::sockjs {

inline constexpr std::string_view greeting_text = "Welcome to SockJS!\n";

// `{"websocket":...,"cookie_needed":...,"origins":["*:*"],"entropy":N}`.
std::string info_body(bool websocket, bool cookie_needed, std::uint32_t entropy);

// The page cross-domain transports load in a hidden iframe; `sockjs_url` is the client script.
std::string iframe_page(std::string_view sockjs_url);

// A strong ETag for a body (quoted).
std::string etag_of(std::string_view body);

// The htmlfile transport's first bytes: a page that hands each later <script> frame to
// `parent.<callback>`; padded past 1 KiB so browsers start rendering. `callback` must be valid.
std::string htmlfile_head(std::string_view callback);

// Each frame of the htmlfile transport.
std::string htmlfile_frame(std::string_view frame);
// Each frame of the eventsource transport.
std::string eventsource_frame(std::string_view frame);
// The jsonp polling body: `/**/callback("frame");`. The leading comment means the body never starts
// with bytes the client chose, so a callback spelling a Flash file (Rosetta Flash) cannot make
// this origin serve one.
std::string jsonp_body(std::string_view callback, std::string_view frame);

}  // namespace bark::sockjs
