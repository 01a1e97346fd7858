// A queued write of a store with a writer thread (sqlite, postgres): applied inside the batch
// transaction under its own savepoint, completed after the batch commits or fails.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "bark/core/result.hpp"
#include "bark/store/message_store.hpp"

namespace bark::store {

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
};

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
    void complete(const error* batch_error) override {
        if (batch_error || !out_) {
            done_(batch_error ? *batch_error : error{"storage", "the write was not run"});
        } else {
            done_(std::move(*out_));
        }
    }

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

}  // namespace bark::store
