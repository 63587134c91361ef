// services::SqliteKvStore: plugin data buffered until the pair-and-feature commit.
#include <thread>

#include <cw/services/kv/sqlite_kv_store.hpp>
#include <cw/state/state_store.hpp>

#include "state_test_util.hpp"

namespace cw::state {
namespace {

class KvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = test::fresh_dir("kv");
    auto s = StateStore::open(m_dir, OpenMode::read_write);
    ASSERT_TRUE(s);
    m_store = std::move(*s);
  }
  void TearDown() override {
    m_store.reset();
    std::filesystem::remove_all(m_dir);
  }
  // What another process would see.
  std::optional<std::string> stored(const std::string& instance, const std::string& key) {
    auto other = StateStore::open(m_dir, OpenMode::read_only);
    EXPECT_TRUE(other);
    return *(*other)->kv_get(instance, key);
  }
  std::filesystem::path m_dir;
  std::unique_ptr<StateStore> m_store;
};

TEST_F(KvTest, WritesWaitForTheCommitThatNamesTheInstance) {
  services::SqliteKvStore kv(*m_store);
  ASSERT_TRUE(kv.put("plex", "watermark", "w1"));
  ASSERT_TRUE(kv.put("trakt", "etag", "e1"));
  EXPECT_EQ(kv.get("plex", "watermark")->value_or(""), "w1");  // read your own write
  EXPECT_FALSE(stored("plex", "watermark").has_value());

  PairFeatureCommit c;
  c.pair = "p";
  c.feature = "watchlist";
  c.kv_instances = {"plex"};
  ASSERT_TRUE(m_store->commit(c));
  EXPECT_EQ(stored("plex", "watermark").value_or(""), "w1");
  EXPECT_FALSE(stored("trakt", "etag").has_value());  // not named: still buffered
  EXPECT_EQ(kv.get("trakt", "etag")->value_or(""), "e1");

  m_store->kv_discard();  // the pair failed: its watermark must not advance
  EXPECT_FALSE(kv.get("trakt", "etag")->has_value());
}

TEST_F(KvTest, EmptyValueDeletes) {
  services::SqliteKvStore kv(*m_store);
  ASSERT_TRUE(kv.put("plex", "k", "v"));
  ASSERT_TRUE(m_store->kv_flush("plex"));
  EXPECT_EQ(stored("plex", "k").value_or(""), "v");
  ASSERT_TRUE(kv.put("plex", "k", ""));
  EXPECT_FALSE(kv.get("plex", "k")->has_value());
  ASSERT_TRUE(m_store->kv_flush(""));
  EXPECT_FALSE(stored("plex", "k").has_value());
  EXPECT_FALSE(kv.put("plex", "", "v"));
}

TEST_F(KvTest, ConcurrentInstancesOnThreads) {
  services::SqliteKvStore kv(*m_store);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&kv, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string inst = "i" + std::to_string(t);
        (void)kv.put(inst, "k" + std::to_string(i), std::to_string(i));
        (void)kv.get(inst, "k0");
      }
    });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(m_store->kv_flush(""));
  auto all = m_store->kv_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 4u);
  for (const auto& [inst, values] : *all) EXPECT_EQ(values.size(), 200u) << inst;
}

}  // namespace
}  // namespace cw::state
