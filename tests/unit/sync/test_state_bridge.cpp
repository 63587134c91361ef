#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include <cw/engine/item.hpp>
#include <cw/engine/item_codec.hpp>
#include <cw/state/state_store.hpp>
#include <cw/sync/state_bridge.hpp>

#include "temp_state.hpp"

namespace cw::sync {
namespace {

engine::Item movie(const std::string& title, const std::string& imdb) {
  engine::Item i;
  i.title = title;
  i.year = 2001;
  i.ids.set(engine::IdKind::imdb, imdb);
  return i;
}

TEST(StateBridge, RoundTripKeepsSidesAndEmptyBaselines) {
  const SideNames sides{"plex", "trakt"};
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001")}, std::string("w1")};
  st.target = engine::SideBaseline{};  // empty, but present: not "no baseline"
  st.pending.push_back({engine::Side::target, "movie:imdb:tt0000002", "mass_delete", 100, false,
                        movie("B", "tt0000002")});
  st.blackbox.push_back({engine::Side::target, "k", "rejected", 1, 2});
  st.unresolved.push_back(
      {engine::Side::source, "u", "not_found", "m", 1, 2, 3, movie("U", "tt0000003")});

  const auto record = to_record(st, sides, false);
  EXPECT_EQ(record.baselines.at("plex").size(), 1u);
  EXPECT_EQ(record.pending.at(0).side, "trakt");
  EXPECT_EQ(record.unresolved.at(0).side, "plex");

  auto back = to_engine_state(record, sides, false);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_TRUE(back->source.has_value());
  ASSERT_TRUE(back->target.has_value());
  EXPECT_TRUE(back->target->items.empty());
  EXPECT_EQ(back->source->watermark, std::optional<std::string>("w1"));
  EXPECT_EQ(back->source->items.at(0).title, "A");
  EXPECT_EQ(back->pending.at(0).side, engine::Side::target);
  EXPECT_EQ(back->pending.at(0).item.title, "B");
  EXPECT_EQ(back->unresolved.at(0).side, engine::Side::source);
  EXPECT_EQ(back->blackbox.size(), 1u);
}

TEST(StateBridge, NoBaselineStaysAbsent) {
  const SideNames sides{"a", "b"};
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001")}, std::nullopt};
  auto back = to_engine_state(to_record(st, sides, false), sides, false);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->source.has_value());
  EXPECT_FALSE(back->target.has_value());
}

TEST(StateBridge, UnknownSideIsAnError) {
  state::PairFeatureRecord r;
  r.pending.push_back({"someone-else", "k", "mass_delete", 1, false, nullptr});
  auto back = to_engine_state(r, {"a", "b"}, false);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("cw state reset"), std::string::npos);
}

// load_state and commit_of against a real state database: what a run reads and writes.
class StateBridgeStore : public test::TempStateTest {
 protected:
  // Stores `st` as the whole state of pair p, watchlist (the way the first run does).
  void store(const engine::PairFeatureState& st) {
    auto before = state::PairFeatureRecord{};
    auto c = state::make_commit("p", "watchlist", before, to_record(st, m_sides, false));
    ASSERT_TRUE(m_store->commit(c));
  }
  LoadedState load() {
    auto l = load_state(*m_store, "p", "watchlist", m_sides, false);
    EXPECT_TRUE(l) << l.error().message;
    return l ? std::move(l).value() : LoadedState{};
  }
  const SideNames m_sides{"plex", "trakt"};
};

TEST_F(StateBridgeStore, LoadedStateIsTheStoredOne) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001"), movie("B", "tt0000002")}, "w1"};
  st.target = engine::SideBaseline{};
  st.blackbox.push_back({engine::Side::target, "k", "rejected", 1, 2});
  store(st);
  const LoadedState l = load();
  ASSERT_TRUE(l.state.source && l.state.target);
  EXPECT_EQ(l.state.source->items.size(), 2u);
  EXPECT_EQ(l.state.source->watermark, std::optional<std::string>("w1"));
  EXPECT_TRUE(l.state.target->items.empty());
  EXPECT_EQ(l.state.blackbox.size(), 1u);
  EXPECT_TRUE(l.record.baselines.empty());  // the rows went into items, not the record
  EXPECT_EQ(l.stored_keys.at("plex").size(), 2u);
  // The same state as the record path gives.
  auto whole = m_store->load("p", "watchlist");
  ASSERT_TRUE(whole);
  auto via_record = to_engine_state(*whole, m_sides, false);
  ASSERT_TRUE(via_record);
  EXPECT_EQ(via_record->blackbox, l.state.blackbox);
  EXPECT_EQ(via_record->source->watermark, l.state.source->watermark);
}

TEST_F(StateBridgeStore, AnUnchangedStateCommitsNoBaselineRow) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001"), movie("B", "tt0000002")}, "w1"};
  st.target = engine::SideBaseline{{movie("A", "tt0000001")}, std::nullopt};
  store(st);
  const LoadedState l = load();
  const auto c = commit_of("p", "watchlist", l, l.state, m_sides, false);
  EXPECT_TRUE(c.baseline_encoded.empty());
  EXPECT_TRUE(c.baseline_deletes.empty());
  EXPECT_TRUE(c.replace_baseline_sides.empty());
  EXPECT_TRUE(c.meta.is_null());  // unchanged meta is not rewritten either
}

TEST_F(StateBridgeStore, OnlyChangedRowsAreWrittenAndGoneRowsDeleted) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001"), movie("B", "tt0000002")}, "w1"};
  st.target = engine::SideBaseline{};
  store(st);
  const LoadedState l = load();
  engine::PairFeatureState after = l.state;
  after.source->items = {movie("A (renamed)", "tt0000001"), movie("C", "tt0000003")};
  const auto c = commit_of("p", "watchlist", l, after, m_sides, false);
  ASSERT_EQ(c.baseline_encoded.at("plex").size(), 2u);  // A changed, C new
  ASSERT_EQ(c.baseline_deletes.at("plex").size(), 1u);  // B gone
  EXPECT_FALSE(c.baseline_encoded.count("trakt"));
  ASSERT_TRUE(m_store->commit(c));
  // What is stored now is exactly `after`, as the whole-record path would have written it.
  auto whole = m_store->load("p", "watchlist");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->baselines.at("plex"), to_record(after, m_sides, false).baselines.at("plex"));
  EXPECT_FALSE(whole->baselines.count("trakt"));  // an empty baseline has no rows
}

TEST_F(StateBridgeStore, RowsOfAStaleSideAreDropped) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001")}, std::nullopt};
  st.target = engine::SideBaseline{{movie("A", "tt0000001")}, std::nullopt};
  store(st);
  // The pair's target was renamed: the old side's rows are no side of the pair any more.
  const SideNames renamed{"plex", "simkl"};
  auto l = load_state(*m_store, "p", "watchlist", renamed, false);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_FALSE(l->state.target.has_value());
  const auto c = commit_of("p", "watchlist", *l, l->state, renamed, false);
  EXPECT_EQ(c.replace_baseline_sides, std::vector<std::string>{"trakt"});
  EXPECT_TRUE(c.baseline_encoded.empty());
}

TEST_F(StateBridgeStore, ARunStoresItemsInTheBinaryFormAndEveryReaderReadsThem) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{};
  store(st);
  const LoadedState l = load();
  engine::PairFeatureState after = l.state;
  engine::Item rich = movie("Rich", "tt0000009");
  rich.extra = {{"ratingKey", "42"}};
  rich.rating = 7.5;
  after.source->items = {rich};
  ASSERT_TRUE(m_store->commit(commit_of("p", "watchlist", l, after, m_sides, false)));
  // The run's own read gives the item back exactly, so the next run writes nothing.
  const LoadedState again = load();
  ASSERT_TRUE(again.state.source);
  ASSERT_EQ(again.state.source->items.size(), 1u);
  EXPECT_EQ(again.state.source->items[0], rich);
  EXPECT_TRUE(
      commit_of("p", "watchlist", again, again.state, m_sides, false).baseline_encoded.empty());
  // Tools read the record form: the same item as JSON.
  auto whole = m_store->load("p", "watchlist");
  ASSERT_TRUE(whole) << whole.error().message;
  EXPECT_EQ(whole->baselines.at("plex").begin()->second, engine::item_to_json(rich));
}

TEST_F(StateBridgeStore, ADamagedBinaryRowFailsTheLoadWithItsKey) {
  state::PairFeatureCommit c;
  c.pair = "p";
  c.feature = "watchlist";
  c.baseline_encoded["plex"]["cut-row"] = engine::encode_item(movie("A", "tt0000001")).substr(0, 6);
  ASSERT_TRUE(m_store->commit(c));
  auto l = load_state(*m_store, "p", "watchlist", m_sides, false);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("cut-row"), std::string::npos) << l.error().message;
  auto whole = m_store->load("p", "watchlist");
  ASSERT_FALSE(whole);
  EXPECT_NE(whole.error().message.find("cut-row"), std::string::npos) << whole.error().message;
}

TEST_F(StateBridgeStore, AnUnreadableBaselineRowFailsTheLoadWithItsKey) {
  engine::PairFeatureState st;
  st.source = engine::SideBaseline{{movie("A", "tt0000001")}, std::nullopt};
  store(st);
  state::PairFeatureCommit c;
  c.pair = "p";
  c.feature = "watchlist";
  c.baseline_upserts["plex"]["bad-row"] = nlohmann::json{{"type", "spaceship"}};
  ASSERT_TRUE(m_store->commit(c));
  auto l = load_state(*m_store, "p", "watchlist", m_sides, false);
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message.find("bad-row"), std::string::npos) << l.error().message;
}

}  // namespace
}  // namespace cw::sync
