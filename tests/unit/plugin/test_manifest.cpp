#include <gtest/gtest.h>

#include <cw/plugin/manifest.hpp>
#include <cw/plugin/schemas.hpp>

using namespace cw;
using namespace cw::plugin;
using nlohmann::json;

namespace {

json good() {
  return json::parse(R"({
    "name": "trakt", "version": "1.2.3", "display_name": "Trakt",
    "features": {
      "watchlist": {"types": ["movie", "show"], "index_semantics": "present",
                    "add": true, "remove": true, "chunk_size": 100},
      "ratings": {"types": ["movie"], "index_semantics": "present", "add": true,
                  "remove": true, "update": true,
                  "rating_scale": {"min": 1, "max": 10, "step": 1}},
      "history": {"types": ["movie", "episode"], "index_semantics": "delta", "add": true,
                  "remove": false, "writes_watch_date": true, "rewatches": true}
    },
    "rate_limits": [{"name": "write", "methods": ["POST"], "requests": 1, "per_seconds": 1}],
    "capabilities": {"auth": "device_code", "scrobble": false},
    "secrets": ["client_secret"],
    "actions": [{"name": "snapshot.list", "description": "list snapshots"}],
    "config": {"type": "object"}
  })");
}

std::string error_of(const json& j) {
  auto m = parse_manifest(j.dump());
  EXPECT_FALSE(m.ok()) << j.dump();
  return m.ok() ? std::string() : m.error().message;
}

TEST(Manifest, ParsesEveryField) {
  auto m = parse_manifest(good().dump());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "trakt");
  EXPECT_EQ(m->version, "1.2.3");
  ASSERT_EQ(m->features.size(), 3u);
  EXPECT_EQ(m->feature("history")->index_semantics, "delta");
  EXPECT_TRUE(m->feature("history")->writes_watch_date);
  EXPECT_EQ(m->feature("watchlist")->chunk_size, 100);
  ASSERT_TRUE(m->feature("ratings")->rating_scale.has_value());
  EXPECT_EQ(m->feature("ratings")->rating_scale->max, 10);
  EXPECT_TRUE(m->declares_update());
  EXPECT_EQ(m->auth, "device_code");
  EXPECT_TRUE(m->has_action("snapshot.list"));
  EXPECT_EQ(m->secrets, std::vector<std::string>{"client_secret"});
  EXPECT_EQ(m->feature("progress"), nullptr);
}

TEST(Manifest, MissingRequiredFieldIsNamed) {
  json j = good();
  j.erase("version");
  EXPECT_EQ(error_of(j), "manifest field /version: is required but missing");
  j = good();
  j["features"]["watchlist"].erase("index_semantics");
  EXPECT_EQ(error_of(j),
            "manifest field /features/watchlist/index_semantics: is required but "
            "missing");
}

TEST(Manifest, UnknownFieldIsNamed) {
  json j = good();
  j["features"]["watchlist"]["colour"] = "red";
  EXPECT_EQ(error_of(j).rfind("manifest field /features/watchlist/colour: is not a known field "
                              "(allowed: ",
                              0),
            0u)
      << error_of(j);
  j = good();
  j["features"]["favourites"] = good()["features"]["watchlist"];
  EXPECT_EQ(error_of(j),
            "manifest field /features/favourites: is not a known field (allowed: "
            "watchlist, history, ratings, progress)");
}

TEST(Manifest, WrongTypesAndValuesAreExplained) {
  json j = good();
  j["features"]["watchlist"]["add"] = "yes";
  EXPECT_EQ(error_of(j), "manifest field /features/watchlist/add: expected boolean, got a string");
  j = good();
  j["name"] = "Trakt!";
  EXPECT_EQ(error_of(j),
            "manifest field /name: value \"Trakt!\" does not match "
            "^[a-z][a-z0-9_-]{0,63}$");
  j = good();
  j["features"]["watchlist"]["types"] = json::array({"film"});
  EXPECT_EQ(error_of(j),
            "manifest field /features/watchlist/types/0: value \"film\" is not one "
            "of movie, show, season, episode");
  j = good();
  j["features"] = json::object();
  EXPECT_EQ(error_of(j), "manifest field /features: needs at least 1 entries");
  j = good();
  j["features"]["ratings"]["rating_scale"] = {{"min", 10}, {"max", 1}};
  EXPECT_EQ(error_of(j), "manifest field /features/ratings/rating_scale: min must be below max");
}

TEST(Manifest, NotJsonOrNotObject) {
  auto m = parse_manifest("nope");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "manifest is not valid JSON: Invalid value. at offset 1");
  auto arr = parse_manifest("[]");
  ASSERT_FALSE(arr.ok());
  EXPECT_EQ(arr.error().message, "manifest field /: expected object, got an array");
}

TEST(Schemas, ItemSchemaAcceptsDocumentedItemsAndRefusesBadOnes) {
  const json episode = json::parse(R"({"type":"episode","title":"Pilot","year":2008,
      "ids":{"tvdb":349232,"imdb":"tt0959621"},
      "show":{"title":"Breaking Bad","year":2008,"ids":{"tmdb":"1396"}},
      "season":1,"episode":1,"watched_at":"2024-01-02T03:04:05Z","key":"k1",
      "extra":{"ratingKey":"123"}})");
  EXPECT_TRUE(validate_against_schema(k_item_schema_json, episode.dump(), "item").ok());
  json bad = episode;
  bad["watched_at"] = "yesterday";
  auto st = validate_against_schema(k_item_schema_json, bad.dump(), "item");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(
      st.error().message.rfind("item field /watched_at: value \"yesterday\" does not match", 0), 0u)
      << st.error().message;
  bad = episode;
  bad["rating"] = 11;
  st = validate_against_schema(k_item_schema_json, bad.dump(), "item");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "item field /rating: value 11 is out of range (maximum 10)");
}

}  // namespace
