#pragma once
// A fixture with a fresh state database in a temporary folder of its own, removed after the
// test: the sync layer's tests read and commit real state.
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/state/state_store.hpp>

namespace cw::sync::test {

class TempStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = std::filesystem::temp_directory_path() /
            ("cw_unit_sync_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
             info->name());
    std::filesystem::remove_all(m_dir);
    auto s = state::StateStore::open(m_dir, state::OpenMode::read_write);
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(s).value();
  }
  void TearDown() override {
    m_store.reset();
    std::filesystem::remove_all(m_dir);
  }

  std::filesystem::path m_dir;
  std::unique_ptr<state::StateStore> m_store;
};

}  // namespace cw::sync::test
