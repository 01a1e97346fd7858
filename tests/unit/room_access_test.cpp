// Tests of bark's roles and room rule: wire names parse and print back, and only exact names
// parse; a room is read by its customer (a USER), its salon (a SALON) and any ADMIN, never by a
// user of another role whose id happens to be a participant's id.
#include <gtest/gtest.h>

#include <string>

#include "bark/domain/role.hpp"
#include "bark/domain/room_access.hpp"
#include "bark/domain/user_destination.hpp"

namespace {

using namespace bark::domain;

constexpr room_parties room{2, 7};  // customer 2, salon 7

TEST(role, wire_names_round_trip) {
    EXPECT_EQ(role_name(role::user), "USER");
    EXPECT_EQ(role_name(role::salon), "SALON");
    EXPECT_EQ(role_name(role::admin), "ADMIN");
    for (const role r : all_roles) {
        const auto back = parse_role(role_name(r));
        ASSERT_TRUE(back.has_value()) << role_name(r);
        EXPECT_EQ(*back, r);
    }
}

TEST(role, only_exact_wire_names_parse) {
    using namespace std::string_literals;
    for (const std::string& bad :
         {""s, "user"s, "Salon"s, "admin"s, "ROOT"s, "USER "s, " USER"s, "USERS"s, "ADMI"s, "USER\0"s}) {
        EXPECT_FALSE(parse_role(bad).has_value()) << '"' << bad << '"';
    }
}

TEST(room_access, each_role_on_each_side) {
    EXPECT_EQ(side_of(role::user), participant::customer);
    EXPECT_EQ(side_of(role::salon), participant::salon);
    EXPECT_EQ(side_of(role::admin), participant::none);

    EXPECT_EQ(participant_in(room, {role::user, 2}), participant::customer);
    EXPECT_EQ(participant_in(room, {role::salon, 7}), participant::salon);
    EXPECT_TRUE(may_read(room, {role::user, 2}));
    EXPECT_TRUE(may_read(room, {role::salon, 7}));

    // The right role with another id, or the right id on the other side.
    EXPECT_EQ(participant_in(room, {role::user, 3}), participant::none);
    EXPECT_EQ(participant_in(room, {role::salon, 8}), participant::none);
    EXPECT_EQ(participant_in(room, {role::user, 7}), participant::none);
    EXPECT_FALSE(may_read(room, {role::user, 3}));
    EXPECT_FALSE(may_read(room, {role::salon, 8}));
    EXPECT_FALSE(may_read(room, {role::user, 7}));
}

TEST(room_access, colliding_ids_are_told_apart_by_role) {
    // USER 2 is the customer of a room whose customer is 2; SALON 2 is not.
    EXPECT_EQ(participant_in(room, {role::user, 2}), participant::customer);
    EXPECT_EQ(participant_in(room, {role::salon, 2}), participant::none);
    EXPECT_TRUE(may_read(room, {role::user, 2}));
    EXPECT_FALSE(may_read(room, {role::salon, 2}));

    // A room whose customer and salon share an id: each role is its own side.
    constexpr room_parties same{5, 5};
    EXPECT_EQ(participant_in(same, {role::user, 5}), participant::customer);
    EXPECT_EQ(participant_in(same, {role::salon, 5}), participant::salon);
    EXPECT_EQ(participant_in(same, {role::admin, 5}), participant::none);
}

TEST(room_access, an_admin_reads_every_room_without_a_side) {
    EXPECT_TRUE(reads_every_room(role::admin));
    EXPECT_FALSE(reads_every_room(role::user));
    EXPECT_FALSE(reads_every_room(role::salon));
    for (const std::int64_t id : {0, 2, 7, 99}) {
        EXPECT_TRUE(may_read(room, {role::admin, id})) << id;
        EXPECT_EQ(participant_in(room, {role::admin, id}), participant::none) << id;
    }
}

TEST(user_destination, a_user_is_its_role_and_id_together) {
    using bark::domain::user_queue_root;
    EXPECT_EQ(user_queue_root({role::user, 2}), "/user/USER-2");
    EXPECT_EQ(user_queue_root({role::salon, 2}), "/user/SALON-2");
    EXPECT_NE(user_queue_root({role::user, 2}), user_queue_root({role::salon, 2}));
    EXPECT_NE(user_queue_root({role::admin, 2}), user_queue_root({role::user, 2}));
    EXPECT_NE(user_queue_root({role::user, 2}), user_queue_root({role::user, 3}));
}

}  // namespace
