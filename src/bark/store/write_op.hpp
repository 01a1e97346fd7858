// A queued write of a store with a writer thread (sqlite, postgres): applied inside the batch
// transaction under its own savepoint, completed after the batch commits or fails. An append is
// a write of its own kind (append_op): a backend may apply a run of them together, in a few
// statements for the whole run, and settle each with its result.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bark/core/result.hpp"
#include "bark/store/message_store.hpp"
#include "bark/store/outbox.hpp"

namespace bark::store {

template <class Connection>
class append_op;

template <class Connection>
class write_op {
public:
    virtual ~write_op() = default;
    // The room this write changes (0: none). A store shared by several nodes locks a batch's rooms
    // in id order before anything else, so two nodes' writers never wait on each other in a cycle.
    std::int64_t room_id = 0;
    // Runs inside the batch transaction, under the op's own savepoint; false: the op failed and
    // its changes are to be rolled back (its error is kept for complete()).
    virtual bool apply(Connection& c) = 0;
    // Runs the completion: with the applied result, or with `batch_error` when the batch failed.
    virtual void complete(const error* batch_error) = 0;
    // This write as an append (null: another kind of write).
    virtual append_op<Connection>* as_append() { return nullptr; }
    // The bytes this write holds for its statements (an append's text and search terms), which a
    // batch's byte cap counts; 0 for the other writes, which hold a few KiB at most (an edit's text).
    virtual std::size_t bytes() const { return 0; }
};

// Runs a write's completion `done`: with its result `out`, or with `batch_error` when the batch
// failed (or with an error when the write never ran).
template <class T>
void complete_write(callback<T>& done, const error* batch_error, std::optional<result<T>>& out) {
    if (batch_error || !out) {
        done(batch_error ? *batch_error : error{"storage", "the write was not run"});
    } else {
        done(std::move(*out));
    }
}

// A write whose work is `fn` and whose completion is `done`.
template <class Connection, class T>
class typed_write_op final : public write_op<Connection> {
public:
    typed_write_op(std::function<result<T>(Connection&)> fn, callback<T> done)
        : fn_(std::move(fn)), done_(std::move(done)) {}

    bool apply(Connection& c) override {
        out_.emplace(fn_(c));
        return out_->ok();
    }
    void complete(const error* batch_error) override { complete_write(done_, batch_error, out_); }

private:
    std::function<result<T>(Connection&)> fn_;  // the work, run inside the transaction
    callback<T> done_;                          // the caller's completion
    std::optional<result<T>> out_;              // fn_'s result once applied
};

template <class T, class Connection>
std::unique_ptr<write_op<Connection>> make_write_op(std::function<result<T>(Connection&)> fn, callback<T> done,
                                                    std::int64_t room_id = 0) {
    auto op = std::make_unique<typed_write_op<Connection, T>>(std::move(fn), std::move(done));
    op->room_id = room_id;
    return op;
}

// An append of a message. apply() runs the backend's one-message append; a backend that applies
// a run of appends together calls settle() on each with its result instead.
template <class Connection>
class append_op final : public write_op<Connection> {
public:
    using append_fn = result<append_result> (*)(Connection&, const new_message&, const std::vector<std::string>&);
    using put_fn = std::optional<error> (*)(Connection&, const new_event&);

    // `put` writes the message's event into the outbox (null: the store keeps no events).
    append_op(new_message m, std::vector<std::string> text_terms, append_fn append, put_fn put,
              callback<append_result> done)
        : m_(std::move(m)), terms_(std::move(text_terms)), append_(append), put_(put), done_(std::move(done)) {
        this->room_id = m_.room_id;
        // Counted once here, on the sender's loop: the writer reads it under the queue's lock.
        bytes_ = m_.text.size() + m_.sender_name.size() + m_.client_message_id.size();
        for (const auto& t : terms_) bytes_ += t.size() + 1;
    }

    const new_message& message() const { return m_; }
    // The search terms of the message's text (domain::search::text_terms), made before queueing.
    const std::vector<std::string>& text_terms() const { return terms_; }

    // Whether the store keeps events: a new message's event is written with it.
    bool keeps_events() const { return put_ != nullptr; }

    // The one-message append; a new message's event is written with it (its failure fails the
    // append, so neither exists without the other).
    bool apply(Connection& c) override {
        auto r = append_(c, m_, terms_);
        if (put_ && r && !r->duplicate) {
            if (auto e = put_(c, message_created_event(r->stored))) r = std::move(*e);
        }
        return settle(std::move(r));
    }

    // Keeps `r` as this append's result, from a backend that applied a run of appends together
    // (and wrote their events, if the store keeps them, in the same transaction). False: the
    // append failed.
    bool settle(result<append_result> r) {
        out_.emplace(std::move(r));
        return out_->ok();
    }

    void complete(const error* batch_error) override { complete_write(done_, batch_error, out_); }

    append_op* as_append() override { return this; }

    std::size_t bytes() const override { return bytes_; }

private:
    new_message m_;                             // the message to append
    std::vector<std::string> terms_;            // its text's search terms
    std::size_t bytes_ = 0;                     // what bytes() answers
    append_fn append_;                          // the backend's one-message append
    put_fn put_;                                // the outbox write, or null
    callback<append_result> done_;              // the caller's completion
    std::optional<result<append_result>> out_;  // the result once applied or settled
};

}  // namespace bark::store
