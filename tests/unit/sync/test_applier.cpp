#include <filesystem>
#include <functional>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cw/services/cancel/cancel_token.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/applier.hpp>

#include "temp_state.hpp"

namespace cw::sync {
namespace {

using nlohmann::json;

// A provider whose write behaviour each test scripts with a function of (call number,
// items sent); it records every call.
class FakePort final : public ProviderPort {
 public:
  explicit FakePort(int chunk_size) {
    plugin::FeatureCaps caps;
    caps.chunk_size = chunk_size;
    m_manifest.name = "fake";
    m_manifest.features["history"] = caps;
    m_manifest.features["watchlist"] = caps;
  }
  const std::string& instance() const override { return m_name; }
  const plugin::Manifest& manifest() const override { return m_manifest; }
  Result<json> health() override { return json{{"status", "ok"}}; }
  Result<json> build_index(const std::string&, const json&) override {
    return json{{"items", json::array()}};
  }
  Result<json> write(WriteOp, const std::string&, const json& items) override {
    calls.push_back(items);
    return behaviour(static_cast<int>(calls.size()), items);
  }

  // By default every key is confirmed.
  std::function<Result<json>(int, const json&)> behaviour = [](int, const json& items) {
    json out = json::array();
    for (const auto& i : items) out.push_back({{"key", i["key"]}, {"status", "confirmed"}});
    return Result<json>(json{{"outcomes", out}});
  };
  std::vector<json> calls;

 private:
  std::string m_name = "fake";
  plugin::Manifest m_manifest;
};

WriteBatch batch_of(const std::string& feature, int n) {
  WriteBatch b;
  b.run_id = "run-1";
  b.pair = "p";
  b.feature = feature;
  b.op = WriteOp::add;
  for (int i = 0; i < n; ++i) {
    const std::string key = "movie:imdb:tt" + std::to_string(1000000 + i);
    b.items.push_back(
        {key, json{{"type", "movie"}, {"title", "M" + std::to_string(i)}, {"key", key}}});
  }
  return b;
}

class ApplierTest : public test::TempStateTest {
 protected:
  void SetUp() override {
    TempStateTest::SetUp();
    m_options.clock = &m_clock;
  }

  services::FlagCancelToken m_cancel;
  ApplierOptions m_options;
  services::ManualClock m_clock{1'700'000'000'000};
};

TEST_F(ApplierTest, SendsInChunksOfTheManifestSize) {
  FakePort port(2);
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch_of("watchlist", 5), stats);
  ASSERT_EQ(port.calls.size(), 3u);
  EXPECT_EQ(port.calls[0].size(), 2u);
  EXPECT_EQ(port.calls[2].size(), 1u);
  EXPECT_EQ(stats.chunks, 3);
  for (const auto& [key, o] : out) EXPECT_EQ(o.status, OutcomeStatus::confirmed) << key;
}

TEST_F(ApplierTest, MissingOutcomeIsUnknownNotInferred) {
  FakePort port(10);
  port.behaviour = [](int, const json& items) {
    // Only the first key answered, and a count that claims all were added.
    return Result<json>(json{{"outcomes", {{{"key", items[0]["key"]}, {"status", "confirmed"}}}},
                             {"added", items.size()}});
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch_of("watchlist", 3), stats);
  int unknown = 0;
  for (const auto& [key, o] : out) unknown += o.status == OutcomeStatus::unknown;
  EXPECT_EQ(unknown, 2);
  auto open = m_store->journal_open("p", "watchlist", "fake");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->size(), 2u);  // the unknown ones stay open for the next run's re-check
}

TEST_F(ApplierTest, AJournalSettlementThatCannotBeWrittenIsReportedAndHandedOn) {
  FakePort port(2);
  port.behaviour = [this](int call, const json& items) -> Result<json> {
    if (call == 2) {
      // From the second chunk on, the state database refuses to settle journal rows, as a
      // failing disk would: a second connection installs a trigger while the chunk is out.
      sqlite3* db = nullptr;
      const auto path = (m_dir / state::k_state_db_name).string();
      EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
      EXPECT_EQ(sqlite3_exec(db,
                             "CREATE TRIGGER refuse BEFORE UPDATE ON journal BEGIN "
                             "SELECT RAISE(ABORT, 'disk I/O error'); END;",
                             nullptr, nullptr, nullptr),
                SQLITE_OK);
      sqlite3_close(db);
    }
    json out = json::array();
    for (const auto& i : items) out.push_back({{"key", i["key"]}, {"status", "confirmed"}});
    return Result<json>(json{{"outcomes", out}});
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch_of("watchlist", 4), stats);
  for (const auto& [key, o] : out) EXPECT_EQ(o.status, OutcomeStatus::confirmed) << key;
  EXPECT_NE(stats.journal_error.find("disk I/O error"), std::string::npos) << stats.journal_error;
  // The first chunk's rows were settled; the second chunk's two are handed to the caller,
  // each with the state it should have, and are still open in the journal meanwhile.
  ASSERT_EQ(stats.unsettled.size(), 2u);
  for (const auto& [id, st] : stats.unsettled) EXPECT_EQ(st, "confirmed") << id;
  auto open = m_store->journal_open("p", "watchlist", "fake");
  ASSERT_TRUE(open) << open.error().message;
  EXPECT_EQ(open->size(), 2u);
}

TEST_F(ApplierTest, RetriesTransientHonouringRetryAfter) {
  FakePort port(10);
  port.behaviour = [](int call, const json& items) -> Result<json> {
    if (call == 1) {
      Error e = make_error("busy", ErrorKind::rate_limited);
      e.retry_after_ms = 1234;
      return e;
    }
    json out = json::array();
    for (const auto& i : items) out.push_back({{"key", i["key"]}, {"status", "confirmed"}});
    return json{{"outcomes", out}};
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch_of("watchlist", 2), stats);
  EXPECT_EQ(port.calls.size(), 2u);
  ASSERT_EQ(m_clock.sleeps().size(), 1u);
  EXPECT_EQ(m_clock.sleeps()[0], 1234);
  EXPECT_EQ(stats.retries, 1);
  for (const auto& [key, o] : out) EXPECT_EQ(o.status, OutcomeStatus::confirmed);
}

TEST_F(ApplierTest, ACancelDuringTheBackOffEndsTheWaitAndTheRetries) {
  // Ctrl-C arrives while the applier waits out a 30 s Retry-After: the wait ends (the
  // clock returns early), nothing is sent again, and the chunk is neither confirmed nor
  // left looking untried.
  class CancellingClock final : public services::ManualClock {
   public:
    explicit CancellingClock(services::FlagCancelToken& c) : m_c(c) {}
    bool sleep_ms(std::int64_t ms, const services::CancelToken* cancel) const override {
      EXPECT_EQ(cancel, &m_c) << "the back-off must wait on the run's cancel token";
      m_c.cancel();
      return ManualClock::sleep_ms(ms, cancel);
    }

   private:
    services::FlagCancelToken& m_c;
  } clock(m_cancel);
  m_options.clock = &clock;
  FakePort port(10);
  port.behaviour = [](int, const json&) -> Result<json> {
    Error e = make_error("slow down", ErrorKind::rate_limited);
    e.retry_after_ms = 30'000;
    return e;
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch_of("watchlist", 2), stats);
  EXPECT_EQ(port.calls.size(), 1u);
  EXPECT_TRUE(stats.cancelled);
  for (const auto& [key, o] : out) {
    EXPECT_EQ(o.status, OutcomeStatus::failed) << key;
    EXPECT_EQ(o.reason, "rate_limited") << key;
    EXPECT_NE(o.message.find("cancelled while waiting to retry"), std::string::npos) << o.message;
  }
}

TEST_F(ApplierTest, HistoryRetryReReadsAndSkipsWhatLanded) {
  FakePort port(10);
  port.behaviour = [](int call, const json& items) -> Result<json> {
    if (call == 1) return make_error("timeout", ErrorKind::transient);
    json out = json::array();
    for (const auto& i : items) out.push_back({{"key", i["key"]}, {"status", "confirmed"}});
    return json{{"outcomes", out}};
  };
  auto batch = batch_of("history", 3);
  const std::string landed = batch.items[1].key;
  m_options.present_on_target =
      [&](const std::vector<WriteItem>&) -> Result<std::set<std::string>> {
    return std::set<std::string>{landed};
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto out = applier.apply(batch, stats);
  ASSERT_EQ(port.calls.size(), 2u);
  EXPECT_EQ(port.calls[1].size(), 2u);  // the landed play is not sent again
  for (const auto& i : port.calls[1]) EXPECT_NE(i["key"], landed);
  EXPECT_EQ(out[landed].status, OutcomeStatus::confirmed);
}

TEST_F(ApplierTest, HistoryIsNotRetriedBlindly) {
  FakePort port(10);
  port.behaviour = [](int, const json&) -> Result<json> {
    return make_error("timeout", ErrorKind::transient);
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);  // no present_on_target
  ApplyStats stats;
  auto out = applier.apply(batch_of("history", 2), stats);
  EXPECT_EQ(port.calls.size(), 1u);
  for (const auto& [key, o] : out) EXPECT_EQ(o.status, OutcomeStatus::unknown);
}

TEST_F(ApplierTest, FailingChunkKeepsTheAccountingOfOthers) {
  FakePort port(1);
  port.behaviour = [](int call, const json& items) -> Result<json> {
    if (call == 2) return make_error("bad request", ErrorKind::invalid_arg);
    return json{{"outcomes", {{{"key", items[0]["key"]}, {"status", "confirmed"}}}}};
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto batch = batch_of("watchlist", 3);
  auto out = applier.apply(batch, stats);
  EXPECT_EQ(out[batch.items[0].key].status, OutcomeStatus::confirmed);
  EXPECT_EQ(out[batch.items[1].key].status, OutcomeStatus::failed);
  EXPECT_EQ(out[batch.items[1].key].reason, "rejected");
  EXPECT_EQ(out[batch.items[2].key].status, OutcomeStatus::confirmed);
}

TEST_F(ApplierTest, CancellationStopsAfterTheChunkInFlight) {
  FakePort port(1);
  port.behaviour = [this](int, const json& items) -> Result<json> {
    m_cancel.cancel();  // the user presses Ctrl-C while the first chunk is out
    return json{{"outcomes", {{{"key", items[0]["key"]}, {"status", "confirmed"}}}}};
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  auto batch = batch_of("watchlist", 3);
  auto out = applier.apply(batch, stats);
  EXPECT_EQ(port.calls.size(), 1u);
  EXPECT_TRUE(stats.cancelled);
  EXPECT_EQ(out[batch.items[0].key].status, OutcomeStatus::confirmed);
  EXPECT_EQ(out[batch.items[1].key].status, OutcomeStatus::not_attempted);
}

TEST_F(ApplierTest, JournalsBeforeSending) {
  FakePort port(10);
  std::size_t open_during_call = 0;
  port.behaviour = [&](int, const json& items) -> Result<json> {
    auto open = m_store->journal_open("p", "history", "fake");
    open_during_call = open ? open->size() : 0;
    json out = json::array();
    for (const auto& i : items) out.push_back({{"key", i["key"]}, {"status", "confirmed"}});
    return json{{"outcomes", out}};
  };
  Applier applier(port, m_store.get(), m_cancel, m_options);
  ApplyStats stats;
  (void)applier.apply(batch_of("history", 4), stats);
  EXPECT_EQ(open_during_call, 4u);
  auto open = m_store->journal_open("p", "history", "fake");
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->empty());
}

}  // namespace
}  // namespace cw::sync
