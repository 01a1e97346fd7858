// SockJS fixed documents.
#include "bark/sockjs/pages.hpp"

#include <algorithm>
#include <cstdio>

#include "bark/sockjs/framing.hpp"

namespace bark::sockjs {

std::string info_body(bool websocket, bool cookie_needed, std::uint32_t entropy) {
    std::string out = "{\"websocket\":";
    out += websocket ? "true" : "false";
    out += ",\"cookie_needed\":";
    out += cookie_needed ? "true" : "false";
    out += ",\"origins\":[\"*:*\"],\"entropy\":";
    out += std::to_string(entropy);
    out += '}';
    return out;
}

// The client script, then the call into it, as the current protocol has the page. (0.3's page
// set an `_sockjs_onload` hook before the script instead; clients keep it only for old servers.)
std::string iframe_page(std::string_view sockjs_url) {
    std::string out =
        "<!DOCTYPE html>\n"
        "<html>\n"
        "<head>\n"
        "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n"
        "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
        "  <script src=\"";
    out += sockjs_url;
    out +=
        "\"></script>\n"
        "  <script>\n"
        "    document.domain = document.domain;\n"
        "    SockJS.bootstrap_iframe();\n"
        "  </script>\n"
        "</head>\n"
        "<body>\n"
        "  <h2>Don't panic!</h2>\n"
        "  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>\n"
        "</body>\n"
        "</html>";
    return out;
}

std::string etag_of(std::string_view body) {
    std::uint64_t h = 14695981039346656037ULL;  // FNV-1a: stable across runs, enough for a cache key
    for (const char c : body) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    char buf[24];
    std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
    return buf;
}

std::string htmlfile_head(std::string_view callback) {
    std::string out =
        "<!doctype html>\n"
        "<html><head>\n"
        "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n"
        "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
        "</head><body><h2>Don't panic!</h2>\n"
        "  <script>\n"
        "    document.domain = document.domain;\n"
        "    var c = parent.";
    out += callback;
    out +=
        ";\n"
        "    c.start();\n"
        "    function p(d) {c.message(d);};\n"
        "    window.onload = function() {c.stop();};\n"
        "  </script>";
    out.append(std::max<std::size_t>(1025 - std::min<std::size_t>(out.size(), 1025), 1), ' ');
    out += "\r\n";
    return out;
}

std::string htmlfile_frame(std::string_view frame) {
    std::string out = "<script>\np(";
    append_quoted(out, frame, true);
    out += ");\n</script>\r\n";
    return out;
}

std::string eventsource_frame(std::string_view frame) {
    std::string out = "data: ";
    out += frame;
    out += "\r\n\r\n";
    return out;
}

std::string jsonp_body(std::string_view callback, std::string_view frame) {
    std::string out = "/**/";
    out += callback;
    out += '(';
    append_quoted(out, frame, true);
    out += ");\r\n";
    return out;
}

}  // namespace bark::sockjs
