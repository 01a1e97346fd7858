// The HTTP request type the network layer parses (Beast's), and its conversion to the IO-free
// request that routes see (bark/http/router.hpp). Only the network layer includes this.
#pragma once

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bark/auth/principal.hpp"
#include "bark/http/router.hpp"

namespace bark::net {

namespace http = boost::beast::http;
using http_request = http::request<http::string_body>;
using http_answer = bark::http::answer;
using bark::http::error_answer;
using bark::http::text_answer;

// What routes need of a parsed request (method, target, headers, body), copied.
bark::http::request to_route_request(const http_request& req);
// A request's head (no body), for an upload route's opener.
bark::http::request to_route_head(const http::request_header<>& head);

// The request's `Authorization` and `Cookie` headers, for token authentication.
auth::upgrade_credentials credentials_of(const http_request& req);

}  // namespace bark::net
