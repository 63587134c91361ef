#include <gtest/gtest.h>

#include <cw/engine/item.hpp>
#include <cw/sync/state_bridge.hpp>

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

}  // namespace
}  // namespace cw::sync
