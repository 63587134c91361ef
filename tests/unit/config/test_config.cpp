// Valid configurations: what load_config() makes of them.
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include <cw/config/config.hpp>

namespace cw::config {
namespace {

using engine::Feature;
using engine::PairMode;
using engine::RemovalMode;

ConfigParse parse(const std::string& yaml) { return parse_config(yaml, "cw.yaml", "/etc/cw"); }

Config must_parse(const std::string& yaml) {
  ConfigParse p = parse(yaml);
  for (const auto& e : p.errors) ADD_FAILURE() << e.to_string();
  EXPECT_TRUE(p.config.has_value());
  return p.config ? *p.config : Config{};
}

const char* const k_basic = R"(
providers:
  plex:   { plugin: plex,  url: "http://127.0.0.1:32400", token: "${env:PLEX_TOKEN}" }
  trakt:  { plugin: trakt, client_id: "${env:TRAKT_ID}", token_file: ~/.config/cw/trakt.json }
pairs:
  - name: plex-to-trakt
    source: plex
    target: trakt
    mode: one-way
    features:
      watchlist: { add: true, remove: true }
      history:   { add: true }
      ratings:   { add: true, update: true }
sync:
  dry_run: false
  mass_delete: { max_ratio: 0.10, max_count: 50 }
)";

TEST(Config, DesignExampleParses) {
  Config c = must_parse(k_basic);
  ASSERT_EQ(c.providers.size(), 2u);
  EXPECT_EQ(c.providers[0].name, "plex");
  EXPECT_EQ(c.providers[0].plugin, "plex");
  EXPECT_EQ(c.providers[0].settings["url"], "http://127.0.0.1:32400");
  EXPECT_EQ(c.providers[1].settings["token_file"], "~/.config/cw/trakt.json");
  ASSERT_EQ(c.pairs.size(), 1u);
  const auto& p = c.pairs[0].policy;
  EXPECT_EQ(p.name, "plex-to-trakt");
  EXPECT_EQ(p.source, "plex");
  EXPECT_EQ(p.target, "trakt");
  EXPECT_EQ(p.mode, PairMode::one_way);
  EXPECT_TRUE(c.pairs[0].enabled);
  EXPECT_FALSE(c.pairs[0].dry_run);
  ASSERT_EQ(p.features.size(), 3u);
  EXPECT_TRUE(p.features.at(Feature::watchlist).enabled);
  EXPECT_TRUE(p.features.at(Feature::watchlist).remove);
  EXPECT_FALSE(p.features.at(Feature::history).remove);
  EXPECT_TRUE(p.features.at(Feature::ratings).update);
  EXPECT_EQ(p.features.count(Feature::progress), 0u);
  EXPECT_DOUBLE_EQ(p.guards.mass_delete_max_ratio, 0.10);
  EXPECT_EQ(p.guards.mass_delete_max_count, 50u);
  // Untouched guards keep the SYNC-RULES defaults.
  EXPECT_TRUE(p.guards.drop_guard);
  EXPECT_EQ(p.guards.tombstone_ttl_s, 30 * engine::k_day_s);
}

TEST(Config, DefaultsFollowSyncRules) {
  Config c = must_parse(R"(
providers: { a: { plugin: x }, b: { plugin: y } }
pairs: [ { source: a, target: b, features: { watchlist: true } } ]
)");
  ASSERT_EQ(c.pairs.size(), 1u);
  const auto& p = c.pairs[0].policy;
  EXPECT_EQ(p.name, "a-to-b");  // derived when not given
  EXPECT_EQ(p.mode, PairMode::one_way);
  const auto& w = p.features.at(Feature::watchlist);
  EXPECT_TRUE(w.enabled);
  EXPECT_TRUE(w.add);
  EXPECT_FALSE(w.remove);
  EXPECT_FALSE(w.update);
  EXPECT_EQ(w.removal, RemovalMode::source_deletes);
  EXPECT_TRUE(w.include_observed_deletes);
  const engine::GuardPolicy defaults;
  EXPECT_EQ(p.guards.mass_delete_max_count, defaults.mass_delete_max_count);
  EXPECT_EQ(p.guards.pending_ttl_s, defaults.pending_ttl_s);
  EXPECT_EQ(p.guards.blackbox_failures, 3);
  EXPECT_FALSE(c.sync.dry_run);
}

TEST(Config, FeatureFalseAndEnabledFalse) {
  Config c = must_parse(R"(
providers: { a: { plugin: x }, b: { plugin: y } }
pairs:
  - source: a
    target: b
    features:
      watchlist: false
      history: { enabled: false, add: true }
      ratings: { remove: true }
)");
  const auto& f = c.pairs[0].policy.features;
  EXPECT_FALSE(f.at(Feature::watchlist).enabled);
  EXPECT_FALSE(f.at(Feature::history).enabled);
  EXPECT_TRUE(f.at(Feature::ratings).enabled);  // a mapping enables unless told otherwise
  EXPECT_TRUE(f.at(Feature::ratings).remove);
}

TEST(Config, EveryKeyMapsToThePolicy) {
  Config c = must_parse(R"(
version: 1
state_dir: state
providers:
  jf: { plugin: jellyfin, url: "http://127.0.0.1:8096" }
  simkl: { plugin: simkl }
sync:
  dry_run: true
  drop_guard: { enabled: true, ratio: 0.2, min_baseline: 50 }
  mass_delete: { max_ratio: 0.25, max_count: 7 }
  blackbox: { failures: 5, ttl: 14d }
  tombstone_ttl: 12h
  pending_ttl: 2w
  removal: mirror
  include_observed_deletes: false
  matching: { year_tolerance: 1 }
pairs:
  - name: jf-simkl
    source: jf
    target: simkl
    mode: two-way
    enabled: false
    source_of_truth: simkl
    features:
      watchlist: { add: true, remove: true, removal: source_deletes, include_observed_deletes: true }
      history: { rewatches: true, tolerance: 90s }
      progress: { update: true }
    sync:
      dry_run: false
      drop_guard: false
      mass_delete: { max_count: 9 }
)");
  EXPECT_EQ(c.state_dir, std::filesystem::path("/etc/cw/state"));
  EXPECT_TRUE(c.sync.dry_run);
  EXPECT_EQ(c.sync.guards.drop_guard_min_baseline, 50u);
  const auto& pc = c.pairs.at(0);
  const auto& p = pc.policy;
  EXPECT_FALSE(pc.enabled);
  EXPECT_FALSE(pc.dry_run);  // the pair's override wins
  EXPECT_EQ(p.mode, PairMode::two_way);
  EXPECT_EQ(p.source_of_truth, "simkl");
  EXPECT_FALSE(p.guards.drop_guard);
  EXPECT_DOUBLE_EQ(p.guards.drop_guard_ratio, 0.2);  // from global
  EXPECT_DOUBLE_EQ(p.guards.mass_delete_max_ratio, 0.25);
  EXPECT_EQ(p.guards.mass_delete_max_count, 9u);  // from the pair
  EXPECT_EQ(p.guards.blackbox_failures, 5);
  EXPECT_EQ(p.guards.blackbox_ttl_s, 14 * engine::k_day_s);
  EXPECT_EQ(p.guards.tombstone_ttl_s, 12 * 3600);
  EXPECT_EQ(p.guards.pending_ttl_s, 14 * engine::k_day_s);
  const auto& w = p.features.at(Feature::watchlist);
  EXPECT_EQ(w.removal, RemovalMode::source_deletes);  // explicit beats sync.removal
  EXPECT_TRUE(w.include_observed_deletes);
  const auto& h = p.features.at(Feature::history);
  EXPECT_TRUE(h.rewatches);
  EXPECT_EQ(h.event_tolerance_s, 90);
  EXPECT_EQ(h.removal, RemovalMode::mirror);  // sync default applies
  EXPECT_FALSE(h.include_observed_deletes);
  EXPECT_TRUE(p.features.at(Feature::progress).update);
  EXPECT_EQ(p.year_tolerance, 1);  // from global
}

TEST(Config, ScopeKeysMapToThePolicy) {
  Config c = must_parse(R"(
providers: { a: { plugin: x }, b: { plugin: x } }
pairs:
  - source: a
    target: b
    features:
      history: { types: [movies, episodes], from_date: 2024-01-01 }
      ratings:
        min_rating: 6.5
        from_date: "2024-01-01T12:00:00+02:00"
        exclude: { ids: ["IMDB:TT0111161", "tvdb:tvdb-81189"], titles: ["  The Room "] }
      watchlist: true
)");
  const auto& f = c.pairs.at(0).policy.features;
  const auto& h = f.at(Feature::history).scope;
  EXPECT_EQ(h.types, 0b1001);  // movie, episode
  EXPECT_EQ(h.from_date, 1704067200);
  const auto& r = f.at(Feature::ratings).scope;
  EXPECT_EQ(r.types, 0x0F);
  EXPECT_EQ(r.from_date, 1704103200);
  EXPECT_EQ(r.min_rating, 6.5);
  EXPECT_EQ(r.exclude_ids, (std::vector<std::string>{"imdb:tt0111161", "tvdb:81189"}));
  EXPECT_EQ(r.exclude_titles, (std::vector<std::string>{"the room"}));
  EXPECT_EQ(f.at(Feature::watchlist).scope, engine::Scope{});
}

TEST(Config, YearToleranceDefaultsToExactAndAPairOverridesIt) {
  Config c = must_parse(R"(
providers: { a: { plugin: x }, b: { plugin: x }, c: { plugin: x } }
sync: { matching: { year_tolerance: 1 } }
pairs:
  - { name: ab, source: a, target: b, features: { watchlist: true } }
  - { name: bc, source: b, target: c, features: { watchlist: true },
      sync: { matching: { year_tolerance: 0 } } }
)");
  EXPECT_EQ(c.pair("ab")->policy.year_tolerance, 1);
  EXPECT_EQ(c.pair("bc")->policy.year_tolerance, 0);
  EXPECT_EQ(must_parse("providers: { a: { plugin: x }, b: { plugin: x } }\n"
                       "pairs: [{ source: a, target: b, features: { watchlist: true } }]\n")
                .pairs.at(0)
                .policy.year_tolerance,
            0);
}

TEST(Config, PropagateRatedAtIsOffByDefaultAndAPairOverridesIt) {
  Config c = must_parse(R"(
providers: { a: { plugin: x }, b: { plugin: x }, c: { plugin: x } }
sync: { propagate_rated_at: true }
pairs:
  - { name: ab, source: a, target: b, features: { ratings: true } }
  - { name: bc, source: b, target: c, features: { ratings: true },
      sync: { propagate_rated_at: false } }
)");
  EXPECT_TRUE(c.pair("ab")->policy.propagate_rated_at);
  EXPECT_FALSE(c.pair("bc")->policy.propagate_rated_at);
  EXPECT_FALSE(must_parse("providers: { a: { plugin: x }, b: { plugin: x } }\n"
                          "pairs: [{ source: a, target: b, features: { ratings: true } }]\n")
                   .pairs.at(0)
                   .policy.propagate_rated_at);
}

TEST(Config, ProviderSettingsAreTypedJsonWithPositions) {
  Config c = must_parse(R"(providers:
  x:
    plugin: demo
    port: 8080
    ratio: 0.5
    verify: false
    nothing: ~
    quoted: "123"
    libraries: [1, "two"]
    nested: { deep: { key: value } }
pairs: []
)");
  const auto& s = c.providers.at(0).settings;
  EXPECT_EQ(s["port"], 8080);
  EXPECT_TRUE(s["port"].is_number_integer());
  EXPECT_DOUBLE_EQ(s["ratio"].get<double>(), 0.5);
  EXPECT_EQ(s["verify"], false);
  EXPECT_TRUE(s["nothing"].is_null());
  EXPECT_EQ(s["quoted"], "123");
  EXPECT_EQ(s["libraries"], nlohmann::json::parse(R"([1, "two"])"));
  EXPECT_EQ(s["nested"]["deep"]["key"], "value");
  EXPECT_FALSE(s.contains("plugin"));
  const auto& p = c.providers.at(0);
  EXPECT_EQ(p.where("/port"), "cw.yaml:4:11: providers.x.port");
  EXPECT_EQ(p.where("/libraries/1"), "cw.yaml:9:20: providers.x.libraries[1]");
  EXPECT_EQ(p.where("/nested/deep/key"), "cw.yaml:10:28: providers.x.nested.deep.key");
  // Unknown pointers fall back to the instance.
  EXPECT_EQ(p.where("/missing"), "cw.yaml:2:3: providers.x.missing");
}

TEST(Config, StateDirDefaultAndHome) {
  Config c = must_parse("providers: {}\n");
  EXPECT_EQ(c.state_dir, default_state_dir());
  const char* home = std::getenv("HOME");
  ASSERT_NE(home, nullptr);
  Config h = must_parse("state_dir: ~/cw-state\n");
  EXPECT_EQ(h.state_dir, std::filesystem::path(home) / "cw-state");
  Config a = must_parse("state_dir: /var/lib/cw\n");
  EXPECT_EQ(a.state_dir, std::filesystem::path("/var/lib/cw"));
}

TEST(Config, DefaultStateDirHonoursXdg) {
  const char* old = std::getenv("XDG_STATE_HOME");
  const std::string saved = old != nullptr ? old : "";
  setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
  EXPECT_EQ(default_state_dir(), std::filesystem::path("/tmp/xdg-state/cw"));
  unsetenv("XDG_STATE_HOME");
  EXPECT_EQ(default_state_dir().filename(), "cw");
  EXPECT_EQ(default_state_dir().parent_path().filename(), "state");
  if (old != nullptr) setenv("XDG_STATE_HOME", saved.c_str(), 1);
}

TEST(Config, LoadConfigFileResolvesAgainstItsDirectory) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("cw-config-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cw.yaml") << "state_dir: st\nproviders: { a: { plugin: p } }\n";
  auto c = load_config((dir / "cw.yaml").string());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->state_dir, (dir / "st").lexically_normal());
  EXPECT_EQ(c->base_dir, dir);
  auto missing = load_config((dir / "nope.yaml").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.yaml: cannot read"), std::string::npos);
  auto located = locate_state_dir((dir / "cw.yaml").string(), "");
  ASSERT_TRUE(located);
  EXPECT_EQ(*located, (dir / "st").lexically_normal());
  std::filesystem::remove_all(dir);
}

TEST(Config, MarkSecretKeysHidesClearTextTokens) {
  Config c = must_parse(R"(
providers:
  t: { plugin: trakt, client_id: abc, auth: { token: clear-text-token }, token2: "${env:X}" }
)");
  auto p = c.providers.at(0);
  p.mark_secret_keys({"auth.token", "token2", "absent"});
  EXPECT_EQ(p.settings["auth"]["token"], k_secret_placeholder);
  EXPECT_EQ(p.settings["client_id"], "abc");
  ASSERT_EQ(p.secrets.count("auth.token"), 1u);
  EXPECT_EQ(p.secrets.at("auth.token").kind, SecretRef::Kind::literal);
  EXPECT_EQ(p.secrets.at("auth.token").ref, "clear-text-token");
  EXPECT_EQ(p.secrets.at("token2").kind, SecretRef::Kind::env);  // kept as it was
  EXPECT_EQ(p.secrets.count("absent"), 0u);
  EXPECT_EQ(p.settings.dump().find("clear-text-token"), std::string::npos);
}

}  // namespace
}  // namespace cw::config
