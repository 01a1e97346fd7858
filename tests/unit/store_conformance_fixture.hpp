// The fixture the store conformance suites share: a fresh store of the parameter's backend in a
// temporary directory of its own, with SQL on its database where it has one, closed after the test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bark/store/message_store.hpp"
#include "store_backends.hpp"
#include "store_test_support.hpp"

namespace bark::test {

class store_conformance : public testing::TestWithParam<store_backend> {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        auto s = GetParam().open(dir_.path(), {});
        ASSERT_TRUE(s.ok()) << s.err().code << ": " << s.err().message;
        store_ = std::move(s->store);
        sql_ = std::move(s->sql);
    }
    void TearDown() override {
        if (store_) store_->close();
        store_.reset();
    }

    temp_dir dir_;                                             // the test's temporary directory
    std::unique_ptr<message_store> store_;                     // the store under test
    std::function<std::int64_t(const std::string& sql)> sql_;  // SQL on its database (null: none)
};

}  // namespace bark::test
