// The conformance suite of attachments in the stores: an upload's record and its lookup with the
// room's participants, attaching uploads to a message (only the sender's, of that room, once; a
// refusal writes nothing), the JSON a message then carries in history and catch-up, a delete taking
// the files with it, and the sweep of uploads no message took. Every backend of store_backends.hpp.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "bark/store/message_store.hpp"
#include "store_backends.hpp"
#include "store_conformance_fixture.hpp"
#include "store_test_support.hpp"

namespace {

using namespace bark::test;  // the store tests' helpers, bark::store, result and role

class attachment_store_conformance : public store_conformance {
protected:
    void SetUp() override {
        store_conformance::SetUp();
        if (HasFatalFailure()) return;
        auto r = wait_for<created_room>([&](auto done) { store_->create_room(1, 10, 1000, done); });
        ASSERT_TRUE(r.ok());
        room_ = r->r.room_id;
        auto other = wait_for<created_room>([&](auto done) { store_->create_room(2, 10, 1000, done); });
        ASSERT_TRUE(other.ok());
        other_room_ = other->r.room_id;
    }
    attachment upload(const std::string& id, std::int64_t room, bark::domain::user who, std::int64_t at_ms = 5000,
                      std::int64_t width = 640) {
        attachment a;
        a.attachment_id = id;
        a.room_id = room;
        a.uploader = who;
        a.content_type = width > 0 ? "image/jpeg" : "application/pdf";
        a.size = 1234;
        a.width = width;
        a.height = width > 0 ? 480 : 0;
        a.name = width > 0 ? "photo.jpg" : "";
        a.created_at_ms = at_ms;
        auto r = wait_for<bark::unit>([&](auto done) { store_->add_attachment(a, done); });
        EXPECT_TRUE(r.ok()) << r.err().message;
        return a;
    }

    result<append_result> send(std::int64_t room, std::int64_t sender, const std::string& role_name,
                               std::vector<std::string> ids, std::string text = "") {
        auto m = msg(room, sender, role_name, std::move(text));
        m.attachment_ids = std::move(ids);
        return wait_for<append_result>([&](auto done) { store_->append(std::move(m), done); });
    }

    std::optional<attachment> find(const std::string& id) {
        auto r = wait_for<std::optional<attachment>>([&](auto done) { store_->find_attachment(id, done); });
        EXPECT_TRUE(r.ok());
        return r.ok() ? r.value() : std::nullopt;
    }

    std::int64_t room_ = 0;
    std::int64_t other_room_ = 0;
};

TEST_P(attachment_store_conformance, an_upload_is_found_with_its_rooms_participants) {
    upload("a1", room_, {role::user, 1});
    const auto a = find("a1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->room_id, room_);
    EXPECT_EQ(a->uploader.role, role::user);
    EXPECT_EQ(a->uploader.id, 1);
    EXPECT_EQ(a->content_type, "image/jpeg");
    EXPECT_EQ(a->size, 1234);
    EXPECT_EQ(a->width, 640);
    EXPECT_EQ(a->height, 480);
    EXPECT_EQ(a->name, "photo.jpg");
    EXPECT_EQ(a->message_id, 0);
    EXPECT_EQ(a->parties.customer_id, 1);
    EXPECT_EQ(a->parties.salon_id, 10);
    EXPECT_FALSE(find("nope"));
}

TEST_P(attachment_store_conformance, a_message_carries_its_files_in_history_and_changes) {
    upload("a1", room_, {role::user, 1});
    upload("a2", room_, {role::user, 1}, 5000, 0);
    const auto r = send(room_, 1, "USER", {"a1", "a2"});
    ASSERT_TRUE(r.ok()) << r.err().message;
    EXPECT_EQ(r->stored.text, "");
    EXPECT_EQ(
        r->stored.attachments,
        R"([{"attachmentId":"a1","contentType":"image/jpeg","size":1234,"width":640,"height":480,)"
        R"("url":"/api/chat/attachments/a1","thumbnailUrl":"/api/chat/attachments/a1/thumbnail","name":"photo.jpg"},)"
        R"({"attachmentId":"a2","contentType":"application/pdf","size":1234,"url":"/api/chat/attachments/a2"}])");
    EXPECT_EQ(find("a1")->message_id, r->stored.message_id);
    auto h = wait_for<page>([&](auto done) { store_->history(room_, std::nullopt, std::nullopt, 10, done); });
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->messages.size(), 1U);
    EXPECT_EQ(h->messages[0].attachments, r->stored.attachments);
    auto c = wait_for<page>([&](auto done) { store_->changes(room_, 0, 10, done); });
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->messages.size(), 1U);
    EXPECT_EQ(c->messages[0].attachments, r->stored.attachments);
    auto rooms = wait_for<std::vector<room_summary>>([&](auto done) { store_->rooms_of(1, role::user, {}, done); });
    ASSERT_TRUE(rooms.ok());
    ASSERT_TRUE(rooms->front().last);
    EXPECT_EQ(rooms->front().last->attachments, r->stored.attachments);
}

TEST_P(attachment_store_conformance, only_the_senders_uploads_to_that_room_attach_once_and_a_refusal_writes_nothing) {
    upload("mine", room_, {role::user, 1});
    upload("salons", room_, {role::salon, 10});
    upload("elsewhere", other_room_, {role::user, 2});
    upload("same-id-other-role", room_, {role::salon, 1});
    for (const std::string id : {"salons", "elsewhere", "same-id-other-role", "missing"}) {
        const auto r = send(room_, 1, "USER", {"mine", id}, "with " + id);
        ASSERT_FALSE(r.ok()) << id;
        EXPECT_EQ(r.err().code, "attachment-unavailable") << id;
    }
    EXPECT_EQ(find("mine")->message_id, 0) << "a refused message attaches nothing";
    auto h = wait_for<page>([&](auto done) { store_->history(room_, std::nullopt, std::nullopt, 10, done); });
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(h->messages.empty()) << "a refused message is not stored";
    ASSERT_TRUE(send(room_, 1, "USER", {"mine"}).ok());
    const auto twice = send(room_, 1, "USER", {"mine"});
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ(twice.err().code, "attachment-unavailable");
}

TEST_P(attachment_store_conformance, a_delete_removes_the_messages_files) {
    upload("a1", room_, {role::user, 1});
    const auto r = send(room_, 1, "USER", {"a1"}, "see");
    ASSERT_TRUE(r.ok());
    message_change c;
    c.what = message_change::kind::remove;
    c.room_id = room_;
    c.message_id = r->stored.message_id;
    c.actor = {role::user, 1};
    c.at_ms = 9000;
    auto d = wait_for<change_result>([&](auto done) { store_->change(c, done); });
    ASSERT_TRUE(d.ok()) << d.err().message;
    EXPECT_EQ(d->removed_attachments, std::vector<std::string>{"a1"});
    EXPECT_EQ(d->stored.attachments, "");
    EXPECT_FALSE(find("a1"));
    auto h = wait_for<page>([&](auto done) { store_->history(room_, std::nullopt, std::nullopt, 10, done); });
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->messages.at(0).attachments, "");
}

TEST_P(attachment_store_conformance, the_sweep_takes_old_unattached_uploads_only) {
    upload("old-orphan", room_, {role::user, 1}, 1000);
    upload("young-orphan", room_, {role::user, 1}, 9000);
    upload("old-attached", room_, {role::user, 1}, 1000);
    ASSERT_TRUE(send(room_, 1, "USER", {"old-attached"}).ok());
    auto taken =
        wait_for<std::vector<std::string>>([&](auto done) { store_->take_orphan_attachments(5000, 100, done); });
    ASSERT_TRUE(taken.ok());
    EXPECT_EQ(taken.value(), std::vector<std::string>{"old-orphan"});
    EXPECT_FALSE(find("old-orphan"));
    EXPECT_TRUE(find("young-orphan"));
    EXPECT_TRUE(find("old-attached"));
}

INSTANTIATE_TEST_SUITE_P(backends, attachment_store_conformance, testing::ValuesIn(backends()),
                         [](const testing::TestParamInfo<store_backend>& p) { return p.param.name; });

}  // namespace
