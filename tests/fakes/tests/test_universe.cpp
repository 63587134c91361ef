// Seeding every fake from a universe whose optional fields are null (the way hand-written or
// exported universes mark unknown values): cw-sandbox --fixtures and POST /__sandbox/universe
// used to fail with "type must be string, but is null".
#include <map>

#include <gtest/gtest.h>

#include "core/fake_service.hpp"
#include "core/generator.hpp"
#include "core/registry.hpp"

namespace {

using cw::fakes::SandboxServer;
using nlohmann::json;

json small_universe() {
  cw::fakes::GenerateOptions o;
  o.movies = 30;
  o.shows = 4;
  o.seasons_per_show = 2;
  o.episodes_per_season = 3;
  o.plays = 60;
  o.ratings = 20;
  o.watchlist = 10;
  o.progress = 8;
  return cw::fakes::generate_universe(o);
}

// Every third entry of each list gets `field` set to null (ids: its imdb id).
json with_null(json u, const std::string& field) {
  for (const char* list : {"movies", "shows", "history", "ratings", "watchlist", "progress"}) {
    if (!u.contains(list)) continue;
    auto& items = u[list];
    for (std::size_t i = 0; i < items.size(); i += 3) {
      if (field == "imdb") {
        items[i]["ids"]["imdb"] = nullptr;
      } else {
        items[i][field] = nullptr;
      }
      if (field == "year" && items[i].contains("show")) items[i]["show"]["year"] = nullptr;
    }
  }
  return u;
}

TEST(UniverseTest, AnimeIsAPercentageOfTheTitles) {
  const auto all = cw::fakes::generate_universe(
      cw::fakes::parse_generate_options("movies=10,shows=2,anime=100,seed=3"));
  for (const char* kind : {"movies", "shows"})
    for (const auto& item : all[kind]) EXPECT_TRUE(item.value("anime", false)) << item.dump();
  const auto none = cw::fakes::generate_universe(
      cw::fakes::parse_generate_options("movies=10,shows=2,anime=0,seed=3"));
  for (const auto& item : none["movies"]) EXPECT_FALSE(item.value("anime", true));
  EXPECT_THROW(cw::fakes::parse_generate_options("anime=101"), std::invalid_argument);
}

// Two titles with one external id are one title to cw: every id of a kind names one movie,
// show, season or episode.
TEST(UniverseTest, EveryExternalIdNamesOneTitle) {
  cw::fakes::GenerateOptions o;
  o.movies = 50;
  o.shows = 40;  // more than 10: episode imdb ids once repeated every 10 shows
  o.seasons_per_show = 2;
  o.episodes_per_season = 8;
  const json u = cw::fakes::generate_universe(o);
  std::map<std::string, std::string> owner;  // "<level>:<kind>:<id>" → the title's path
  auto claim = [&](const std::string& level, const json& ids, const std::string& path) {
    for (const auto& [kind, value] : ids.items()) {
      const std::string key = level + ":" + kind + ":" + value.get<std::string>();
      const auto [at, inserted] = owner.emplace(key, path);
      EXPECT_TRUE(inserted) << key << " names both " << at->second << " and " << path;
    }
  };
  for (const auto& m : u["movies"]) claim("movie", m["ids"], m["title"].get<std::string>());
  for (const auto& s : u["shows"]) {
    const std::string show = s["title"].get<std::string>();
    claim("show", s["ids"], show);
    for (const auto& sn : s["seasons"]) {
      const std::string season = show + " S" + std::to_string(sn["number"].get<int>());
      claim("season", sn["ids"], season);
      for (const auto& e : sn["episodes"])
        claim("episode", e["ids"], season + "E" + std::to_string(e["number"].get<int>()));
    }
  }
}

TEST(UniverseTest, WithoutUserStateKeepsTheTitlesOnly) {
  const auto u = cw::fakes::generate_universe(cw::fakes::parse_generate_options(
      "movies=5,shows=1,plays=4,ratings=2,watchlist=2,progress=1,seed=3"));
  const auto empty = cw::fakes::without_user_state(u);
  EXPECT_EQ(empty["movies"], u["movies"]);
  EXPECT_EQ(empty["shows"], u["shows"]);
  for (const char* list : {"watchlist", "history", "ratings", "progress"}) {
    EXPECT_FALSE(u[list].empty()) << list;
    EXPECT_TRUE(empty[list].empty()) << list;
  }
}

TEST(UniverseTest, WithoutNullsDropsNullMembersAndElementsRecursively) {
  const json in = {
      {"a", nullptr}, {"b", {{"c", nullptr}, {"d", 1}}}, {"e", {1, nullptr, {{"f", nullptr}}}}};
  const json out = cw::fakes::without_nulls(in);
  EXPECT_EQ(out, (json{{"b", {{"d", 1}}}, {"e", {1, json::object()}}}));
}

TEST(UniverseTest, EpisodeItemsOmitMissingShowFields) {
  json u = {{"shows",
             {{{"title", "S"},
               {"ids", {{"tmdb", "1"}}},
               {"seasons", {{{"number", 1}, {"episodes", {{{"number", 2}}}}}}}}}}};
  const json eps = cw::fakes::universe_episode_items(u);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_FALSE(eps[0]["show"].contains("year"));
  EXPECT_EQ(eps[0]["season"], 1);
  EXPECT_EQ(eps[0]["episode"], 2);
}

class UniverseNullsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(UniverseNullsTest, EveryFakeAcceptsNullOptionalFields) {
  const json base = small_universe();
  for (const auto& factory : cw::fakes::all_fakes()) {
    SandboxServer server(factory.make());
    server.start();
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(30, 0);
    auto r =
        client.Post("/__sandbox/universe", with_null(base, GetParam()).dump(), "application/json");
    ASSERT_TRUE(r) << factory.name;
    EXPECT_EQ(r->status, 200) << factory.name << " with null " << GetParam() << ": " << r->body;
    auto st = client.Get("/__sandbox/state");
    ASSERT_TRUE(st) << factory.name;
    EXPECT_EQ(st->status, 200) << factory.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Fields, UniverseNullsTest,
                         ::testing::Values("year", "title", "listed_at", "rated_at", "progress_at",
                                           "watched_at", "duration_ms", "imdb", "sandbox"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
