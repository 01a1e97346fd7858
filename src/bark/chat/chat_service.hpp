// The chat on top of the broker and the store: the `/pub/chat/...` handlers (send, read, typing),
// who may subscribe to a room's topics, catch-up replays, and new-message notifications. A chat
// message is broadcast and receipted only after the store has committed it; broadcasts leave from
// the store's writer thread in commit order, so every subscriber sees a room in messageId order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bark/auth/principal.hpp"
#include "bark/broker/cluster_bus.hpp"
#include "bark/broker/pub_router.hpp"
#include "bark/chat/chat_json.hpp"
#include "bark/chat/room_directory.hpp"
#include "bark/core/metrics.hpp"
#include "bark/core/path_template.hpp"
#include "bark/session/session.hpp"
#include "bark/store/message_store.hpp"

namespace bark::broker {
class broker;
}

namespace bark::chat {

// Every destination of a room lies below this: /sub/chat/{roomId}, its /read, /typing and
// /presence (presence_service.hpp). The protocol sessions guard it (session::options::room_prefix)
// on the chat's behalf.
inline constexpr std::string_view room_prefix = "/sub/chat";

// The senderRole of a message bark itself posts (a backend's system message); its senderId is 0.
inline constexpr std::string_view system_sender_role = "SYSTEM";

// A message posted from outside a STOMP session (a backend command, REST): stored and broadcast
// exactly like a SEND.
struct posted_message {
    std::int64_t room_id = 0;
    std::optional<std::int64_t> sender_id;     // none: a system message
    std::optional<domain::role> sender_role;   // none: the room's side whose id is sender_id
    std::string sender_name;
    std::string text;
    std::string client_message_id;  // idempotency key per (room, sender); empty: none
    std::vector<std::string> attachment_ids;  // the sender's uploads to this room to attach
};

// What post() answers: the stored message, and whether it was stored before (a retry).
struct post_outcome {
    store::message message;
    bool duplicate = false;
};

// The chat's settings.
struct chat_options {
    std::int64_t edit_window_ms = 86'400'000;  // --edit-window: how long after its send a message may be edited
    // Told the ids of the files a deleted message took with it, so their bytes go too (any thread).
    std::function<void(std::vector<std::string>)> attachments_removed;
};

class chat_service {
public:
    chat_service(store::message_store& store, broker::broker& broker, room_directory& rooms, chat_options options = {});

    // Adds /pub/chat/send|edit|delete|read|typing/{roomId}.
    void register_routes(broker::pub_router& router);

    // /sub/chat/{roomId}[/read|/typing|/presence] only for the room's participants; other /sub topics for all.
    // Decided now, or nullopt: `decided` runs later from a store thread (a room read from the store).
    std::optional<bool> may_subscribe(const auth::principal& p, std::string_view destination,
                                      std::function<void(bool)> decided) const;

    // What the protocol sessions ask the chat: who may subscribe to a room, and catch-up replays.
    void session_hooks(session::services& services) const;
    // What a cluster bus reads to keep each room in order on every node.
    broker::room_history history() const;

    // Replays /sub/chat/{roomId} after change after_id into sink (pages of the room's changes, in order).
    bool replay(std::string_view destination, std::int64_t after_id, broker::replay_sink sink) const;

    // True for a topic that keeps history (/sub/chat/{roomId}).
    bool keeps_history(std::string_view destination) const;

    // The newest change_id of a room topic (0: none; nullopt: the store failed), from any thread.
    void newest_id(std::string_view destination, std::function<void(std::optional<std::int64_t>)> done) const;

    // Broadcasts a read mark to /sub/chat/{roomId}/read (also used by the REST API).
    void publish_read(std::int64_t room_id, std::int64_t user_id, std::int64_t last_read_id) const;

    // Publishes JSON to a `/sub/...` topic, or to `/user/{userId}/queue/...` of the user with that
    // role and id (POST /api/publish). Errors: invalid-destination (neither), role-required (a
    // user queue without a role: ids of customers and salons collide).
    result<unit> publish_json(std::string_view destination, std::optional<domain::role> role,
                              std::string_view json) const;

    // Stores and broadcasts p like a SEND of its sender (who must may_read the room). done gets the
    // stored message (the earlier one for a retry with the same client_message_id), or an error:
    // not-found, forbidden, ambiguous-sender (no role, and the id is both sides'), empty-text,
    // text-too-long, unavailable. From any thread.
    void post(posted_message p, std::function<void(result<post_outcome>)> done) const;

    // Edits or deletes a stored message as `c.actor` (domain/message_rules.hpp), then broadcasts its
    // new state to /sub/chat/{roomId} as the room's next change. done gets the message's new state,
    // or an error: not-found, forbidden, edit-window-passed, empty-text, text-too-long, unavailable.
    // c.at_ms and c.edit_window_ms are set here. From any thread.
    void change(store::message_change c, std::function<void(result<store::message>)> done) const;

    // Chat messages stored (retries of a stored one not counted).
    std::uint64_t messages_stored() const { return stored_.get(); }

    // A room or user id from a path segment; nullopt unless a positive decimal integer.
    static std::optional<std::int64_t> parse_id(std::string_view s);

private:
    void on_send(broker::pub_request&& req) const;
    void on_edit(broker::pub_request&& req) const;
    void on_delete(broker::pub_request&& req) const;
    // Runs change c of the room the request names, as its sender; replies its fault, if any.
    void change_in_room(broker::pub_request&& req, store::message_change c) const;
    void on_read(broker::pub_request&& req) const;
    void on_typing(broker::pub_request&& req) const;
    // Runs then(req, room) once the room a /pub request names is found and the sender may use it
    // (at once, or on a store thread for a room read from the store); otherwise replies the error.
    using room_step = std::function<void(broker::pub_request&&, const store::room&)>;
    void with_room(broker::pub_request&& req, room_step then) const;
    void store_send(broker::pub_request&& req, const store::room& room, send_payload payload) const;
    void store_read(broker::pub_request&& req, const store::room& room, std::int64_t last) const;
    static std::optional<error> check_text(std::string_view text, bool with_files = false);
    // Stamps, stores, broadcasts and notifies (once: a retry is only answered).
    void append_and_broadcast(store::new_message m, const store::room& room,
                              std::function<void(result<post_outcome>)> done) const;
    // Publishes a JSON body to every loop (from any thread; chat publishes come from store threads).
    void publish(std::string destination, std::string_view json, const broker::message_meta& meta = {}) const;
    void broadcast(const store::message& m, std::int64_t previous_id) const;
    // The new-message notification to one participant (a user is role and id: ids collide).
    void notify(const store::message& m, const domain::user& to, std::int64_t unread) const;
    void fetch_page(std::int64_t room_id, std::int64_t after_id, broker::replay_sink sink) const;
    // The room id when destination is topic with a valid id.
    static std::optional<std::int64_t> room_in(const path_template& topic, std::string_view destination);

    const chat_options options_;
    mutable metrics::counter stored_;
    store::message_store& store_;
    broker::broker& broker_;
    room_directory& rooms_;
    std::vector<path_template> room_topics_;  // a room's messages (first), read marks, typing and presence topics
};

}  // namespace bark::chat
