// The TLS server context bark's port speaks with --tls-cert/--tls-key, loaded once at start. Only
// declared here (no Asio header), so the app can hold it without seeing the TLS library.
#pragma once

#include <memory>
#include <string>

#include "bark/core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace bark::net {

// A server context from a PEM certificate chain and private key: TLS 1.2 and 1.3 only. The error
// names the file that could not be used and why.
result<std::shared_ptr<boost::asio::ssl::context>> load_tls_context(const std::string& cert_file,
                                                                    const std::string& key_file);

}  // namespace bark::net
