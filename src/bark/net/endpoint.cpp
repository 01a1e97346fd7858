// The endpoints that run over bark's transports.
#include "bark/net/endpoint.hpp"

#include "bark/broker/broker.hpp"
#include "bark/net/shared_state.hpp"

namespace bark::net {
namespace {

class stomp_endpoint final : public endpoint {
public:
    stomp_endpoint(shared_state& state, endpoint_context ctx)
        : session_(std::to_string(state.next_session.fetch_add(1, std::memory_order_relaxed)), state.session_options,
                   state.services, ctx.transport, state.broker.port(ctx.loop), std::move(ctx.credentials)) {}

    void on_data(std::string_view bytes) override { session_.on_data(bytes); }
    void on_timer(session::clock::time_point now) override { session_.on_timer(now); }
    std::optional<session::clock::time_point> next_deadline() const override { return session_.next_deadline(); }
    void on_closed() override { session_.on_closed(); }
    const std::string& id() const override { return session_.id(); }

private:
    session::stomp_session session_;
};

// Echo and close: each message a connection receives is one on_data call.
class test_endpoint final : public endpoint {
public:
    test_endpoint(shared_state& state, session::transport& transport, bool echo)
        : id_("test-" + std::to_string(state.next_session.fetch_add(1, std::memory_order_relaxed))),
          transport_(transport),
          echo_(echo) {
        if (!echo_) {
            transport_.close(3000, "Go away!");
        }
    }

    void on_data(std::string_view bytes) override {
        if (echo_ && !closed_) {
            broker::outbound_frame f;
            f.own = std::string(bytes);
            transport_.send(std::move(f));
        }
    }
    void on_timer(session::clock::time_point) override {}
    std::optional<session::clock::time_point> next_deadline() const override { return std::nullopt; }
    void on_closed() override { closed_ = true; }
    const std::string& id() const override { return id_; }

private:
    std::string id_;
    session::transport& transport_;
    bool echo_;
    bool closed_ = false;
};

}  // namespace

std::unique_ptr<endpoint> make_stomp_endpoint(shared_state& state, endpoint_context ctx) {
    return std::make_unique<stomp_endpoint>(state, std::move(ctx));
}

std::unique_ptr<endpoint> make_echo_endpoint(shared_state& state, endpoint_context ctx) {
    return std::make_unique<test_endpoint>(state, ctx.transport, true);
}

std::unique_ptr<endpoint> make_close_endpoint(shared_state& state, endpoint_context ctx) {
    return std::make_unique<test_endpoint>(state, ctx.transport, false);
}

}  // namespace bark::net
