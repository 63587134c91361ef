// Invalid configurations: every error names file:line:column, the key path and what was
// expected.
#include <gtest/gtest.h>

#include <cw/config/config.hpp>

#include "config_errors.hpp"

namespace cw::config {
namespace {

using test::errors_of;
using test::only_error;

const char* const k_providers =
    "providers:\n  plex: { plugin: plex }\n  trakt: { plugin: trakt }\n";

TEST(ConfigErrors, BadModeNamesPositionPathAndChoices) {
  const std::string yaml = std::string(k_providers) +
                           "pairs:\n"
                           "  - name: p\n"
                           "    source: plex\n"
                           "    target: trakt\n"
                           "    mode: oneway\n"
                           "    features: { watchlist: true }\n";
  EXPECT_EQ(only_error(yaml),
            "cw.yaml:8:11: pairs[0].mode: expected one of one-way, two-way, got \"oneway\" "
            "(did you mean \"one-way\"?) (at /pairs/0/mode)");
}

TEST(ConfigErrors, YearToleranceIsZeroOrOne) {
  EXPECT_EQ(only_error(std::string(k_providers) + "sync:\n  matching: { year_tolerance: 2 }\n"),
            "cw.yaml:5:31: sync.matching.year_tolerance: expected a whole number from 0 to 1, "
            "got 2 (at /sync/matching/year_tolerance)");
  EXPECT_EQ(only_error(std::string(k_providers) + "sync:\n  matching: { years: 1 }\n"),
            "cw.yaml:5:15: sync.matching.years: unknown key; expected one of year_tolerance (at "
            "/sync/matching/years)");
  EXPECT_EQ(only_error(std::string(k_providers) + "sync:\n  matching: 1\n"),
            "cw.yaml:5:13: sync.matching: expected a mapping, got \"1\" (at /sync/matching)");
}

TEST(ConfigErrors, PluginLimitsAreCheckedWithTheirPositions) {
  const std::string base = std::string(k_providers) + "plugins:\n";
  EXPECT_EQ(only_error(base + "  max_reply: 512MB\n"),
            "cw.yaml:5:14: plugins.max_reply: expected a size such as 512MiB, 64KiB, 1GiB or a "
            "number of bytes, got \"512MB\"");
  EXPECT_EQ(only_error(base + "  max_reply: 4GiB\n"),
            "cw.yaml:5:14: plugins.max_reply: expected a size from 1MiB to 2GiB (what one frame "
            "of the plugin runner carries), got 4GiB");
  EXPECT_EQ(only_error(base + "  max_reply: 1000\n"),
            "cw.yaml:5:14: plugins.max_reply: expected a size from 1MiB to 2GiB (what one frame "
            "of the plugin runner carries), got 1000 (at /plugins/max_reply)");
  EXPECT_EQ(only_error(base + "  restarts: -1\n"),
            "cw.yaml:5:13: plugins.restarts: expected a whole number from 0 to 100, got -1 (at "
            "/plugins/restarts)");
  EXPECT_EQ(only_error(base + "  cancel_grace: 0s\n"),
            "cw.yaml:5:17: plugins.cancel_grace: expected a duration of at least 1s, got 0s");
  EXPECT_EQ(only_error(base + "  max_field: 100\n"),
            "cw.yaml:5:14: plugins.max_field: expected a size from 256B to 1MiB, got 100 (at "
            "/plugins/max_field)");
  EXPECT_EQ(only_error(base + "  max_extra: [1]\n"),
            "cw.yaml:5:14: plugins.max_extra: expected a size such as 512MiB, 64KiB, 1GiB or a "
            "number of bytes, got a list (at /plugins/max_extra)");
  EXPECT_EQ(only_error(base + "  max_extra: 32MiB\n"),
            "cw.yaml:5:14: plugins.max_extra: expected a size from 1KiB to 16MiB, got 32MiB");
  ConfigParse p = parse_config(base +
                                   "  max_reply: 64 MiB\n  restarts: 0\n  cancel_grace: 2s\n"
                                   "  max_field: 8KiB\n  max_extra: 1MiB\n",
                               "cw.yaml", "/etc/cw");
  ASSERT_TRUE(p.config) << (p.errors.empty() ? "" : p.errors.front().to_string());
  EXPECT_EQ(p.config->plugins.max_reply_bytes, std::int64_t{64} << 20);
  EXPECT_EQ(p.config->plugins.restarts, 0);
  EXPECT_EQ(p.config->plugins.cancel_grace_s, 2);
  EXPECT_EQ(p.config->plugins.max_field_bytes, 8192);
  EXPECT_EQ(p.config->plugins.max_extra_bytes, std::int64_t{1} << 20);
  const PluginsOptions defaults;
  EXPECT_EQ(defaults.max_field_bytes, 4096);
  EXPECT_EQ(defaults.max_extra_bytes, 65536);
  EXPECT_EQ(defaults.max_reply_bytes, std::int64_t{512} << 20);
  EXPECT_EQ(defaults.restarts, 3);
  EXPECT_EQ(defaults.cancel_grace_s, 5);
}

TEST(ConfigErrors, PropagateRatedAtIsABoolean) {
  EXPECT_EQ(only_error(std::string(k_providers) + "sync:\n  propagate_rated_at: sometimes\n"),
            "cw.yaml:5:23: sync.propagate_rated_at: expected true or false, got \"sometimes\" (at "
            "/sync/propagate_rated_at)");
}

TEST(ConfigErrors, ScopeValuesAreCheckedWhereTheyAre) {
  const auto feature = [](const std::string& f, const std::string& body) {
    return std::string(k_providers) + "pairs:\n  - source: plex\n    target: trakt\n" +
           "    features:\n      " + f + ": " + body + "\n";
  };
  EXPECT_EQ(only_error(feature("history", "{ types: [movies, film] }")),
            "cw.yaml:8:34: pairs[0].features.history.types[1]: expected one of movies, shows, "
            "seasons, episodes, got \"film\" (at /pairs/0/features/history/types/1)");
  EXPECT_EQ(only_error(feature("history", "{ types: movies }")),
            "cw.yaml:8:25: pairs[0].features.history.types: expected a list, got \"movies\" (at "
            "/pairs/0/features/history/types)");
  EXPECT_EQ(only_error(feature("watchlist", "{ from_date: 2024-01-01 }")),
            "cw.yaml:8:31: pairs[0].features.watchlist.from_date: only history (plays) and "
            "ratings have dates to filter by (at /pairs/0/features/watchlist/from_date)");
  EXPECT_NE(only_error(feature("history", "{ from_date: 2024-13-01 }"))
                .find("cw.yaml:8:29: pairs[0].features.history.from_date: expected a date"),
            std::string::npos);
  EXPECT_EQ(only_error(feature("history", "{ min_rating: 5 }")),
            "cw.yaml:8:30: pairs[0].features.history.min_rating: only the ratings feature has a "
            "minimum rating (at /pairs/0/features/history/min_rating)");
  EXPECT_EQ(only_error(feature("ratings", "{ min_rating: 11 }")),
            "cw.yaml:8:30: pairs[0].features.ratings.min_rating: expected a number from 0 to 10, "
            "got 11 (at /pairs/0/features/ratings/min_rating)");
  EXPECT_EQ(only_error(feature("ratings", "{ exclude: { ids: [tt0111161] } }")),
            "cw.yaml:8:35: pairs[0].features.ratings.exclude.ids[0]: expected an id as kind:value "
            "(imdb:tt0111161, tmdb:603, tvdb:81189, ...), got \"tt0111161\" (at "
            "/pairs/0/features/ratings/exclude/ids/0)");
  EXPECT_EQ(only_error(feature("ratings", "{ exclude: { names: [x] } }")),
            "cw.yaml:8:29: pairs[0].features.ratings.exclude.names: unknown key; expected one of "
            "ids, titles (at /pairs/0/features/ratings/exclude/names)");
}

// Issue 10: one deletion rotated round a -> b -> c -> a forever (2 writes every run).
TEST(ConfigErrors, ARingOfOneWayRemovingPairsIsRefusedWithThePairsNamed) {
  const std::string providers =
      "providers:\n  a: { plugin: x }\n  b: { plugin: x }\n  c: { plugin: x }\n";
  const auto pair = [](const char* name, const char* from, const char* to, const char* remove) {
    return std::string("  - { name: ") + name + ", source: " + from + ", target: " + to +
           ", features: { watchlist: { add: true, remove: " + remove + " } } }\n";
  };
  const std::string ring = providers + "pairs:\n" + pair("ab", "a", "b", "true") +
                           pair("bc", "b", "c", "true") + pair("ca", "c", "a", "true");
  const std::string e = only_error(ring);
  EXPECT_NE(e.find("cw.yaml:8:"), std::string::npos) << e;
  EXPECT_NE(e.find("one-way pairs ab, bc, ca propagate watchlist removals in a ring "
                   "(a -> b -> c -> a)"),
            std::string::npos)
      << e;
  // Not a ring when one of them does not remove, or with a chain.
  for (const std::string& fine :
       {providers + "pairs:\n" + pair("ab", "a", "b", "true") + pair("bc", "b", "c", "true") +
            pair("ca", "c", "a", "false"),
        providers + "pairs:\n" + pair("ab", "a", "b", "true") + pair("bc", "b", "c", "true")}) {
    const auto ok = cw::config::parse_config(fine, "cw.yaml", ".");
    EXPECT_TRUE(ok.config) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  }
}

TEST(ConfigErrors, BytesThatAreNotUtf8AreRefusedWithTheirPosition) {
  const std::string yaml = std::string(k_providers) + "pairs: []\n# caf\xe9 in Latin-1\n";
  EXPECT_EQ(only_error(yaml), "cw.yaml:5:6: invalid UTF-8 (byte 0xe9): save the file as UTF-8");
  EXPECT_TRUE(cw::config::parse_config(std::string(k_providers) + "# caf\xc3\xa9\n", "cw.yaml", ".")
                  .config);
}

TEST(ConfigErrors, AnAliasBombIsRefusedAtOnce) {
  // Nine levels of ten aliases: 10^9 values once expanded.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k)
      yaml += (k ? ", " : "") + std::string("*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  const std::string e = only_error(yaml + k_providers);
  EXPECT_NE(e.find("expands to more than"), std::string::npos) << e;
}

TEST(ConfigErrors, IdResolverMustNameAProvider) {
  EXPECT_EQ(only_error(std::string("id_resolver: tmdb\n") + k_providers),
            "cw.yaml:1:14: id_resolver: no provider named \"tmdb\"; name a provider under "
            "providers: whose plugin resolves ids (tmdb)");
  const auto ok =
      cw::config::parse_config(std::string("id_resolver: plex\n") + k_providers, "cw.yaml", ".");
  ASSERT_TRUE(ok.config) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  EXPECT_EQ(ok.config->id_resolver, "plex");
}

TEST(ConfigErrors, UnknownKeyGetsDidYouMean) {
  const std::string yaml = std::string(k_providers) +
                           "pairs:\n"
                           "  - name: p\n"
                           "    sorce: plex\n"
                           "    target: trakt\n"
                           "    features: { watchlist: true }\n";
  const std::string e = only_error(yaml);
  EXPECT_EQ(e.rfind("cw.yaml:6:5: pairs[0].sorce: unknown key (did you mean \"source\"?)", 0), 0u)
      << e;
}

TEST(ConfigErrors, UnknownTopLevelAndSyncKeys) {
  auto errors = errors_of("provider: {}\nsync: { dryrun: true, mass_delete: { max_cout: 3 } }\n");
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("cw.yaml:1:1: provider: unknown key (did you mean \"providers\"?)"),
            std::string::npos);
  EXPECT_NE(errors[1].find("sync.dryrun: unknown key (did you mean \"dry_run\"?)"),
            std::string::npos);
  EXPECT_NE(errors[2].find("sync.mass_delete.max_cout: unknown key (did you mean \"max_count\"?)"),
            std::string::npos);
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_EQ(only_error("sync:\n  dry_run: yes\n"),
            "cw.yaml:2:12: sync.dry_run: expected true or false, got \"yes\" (at /sync/dry_run)");
  EXPECT_EQ(only_error("sync:\n  dry_run: \"true\"\n"),
            "cw.yaml:2:12: sync.dry_run: expected true or false, got \"true\" (at /sync/dry_run)");
  EXPECT_EQ(only_error("sync:\n  mass_delete: { max_ratio: 2 }\n"),
            "cw.yaml:2:29: sync.mass_delete.max_ratio: expected a number from 0 to 1, got 2 (at "
            "/sync/mass_delete/max_ratio)");
  EXPECT_EQ(only_error("sync:\n  mass_delete: { max_count: many }\n"),
            "cw.yaml:2:29: sync.mass_delete.max_count: expected a whole number, got \"many\" (at "
            "/sync/mass_delete/max_count)");
  EXPECT_EQ(only_error("sync:\n  tombstone_ttl: 30 days\n"),
            "cw.yaml:2:18: sync.tombstone_ttl: expected a duration such as 30d, 12h, 90s or a "
            "number of seconds, got \"30 days\"");
  EXPECT_EQ(only_error("sync: [1]\n"),
            "cw.yaml:1:7: sync: expected a mapping, got a list (at /sync)");
  EXPECT_EQ(only_error("pairs: {}\n"),
            "cw.yaml:1:8: pairs: expected a list of pairs, got a mapping (at /pairs)");
  EXPECT_EQ(only_error("providers:\n  x: plex\n"),
            "cw.yaml:2:6: providers.x: expected a mapping, got \"plex\" (at /providers/x)");
}

TEST(ConfigErrors, ProviderNeedsPlugin) {
  EXPECT_EQ(only_error("providers:\n  x: { url: a }\n"),
            "cw.yaml:2:3: providers.x: missing key \"plugin\": which plugin this instance uses "
            "(plex, trakt, ...) (at /providers/x/plugin)");
  EXPECT_NE(only_error("providers:\n  bad name: { plugin: x }\n").find("instance names use"),
            std::string::npos);
}

TEST(ConfigErrors, DuplicatePairNames) {
  const std::string yaml =
      std::string(k_providers) +
      "pairs:\n"
      "  - { name: p, source: plex, target: trakt, features: { watchlist: true } }\n"
      "  - { name: p, source: trakt, target: plex, features: { history: true } }\n";
  const std::string e = only_error(yaml);
  EXPECT_EQ(e.rfind("cw.yaml:6:5: pairs[1].name: duplicate pair name \"p\" (also pairs[0])", 0), 0u)
      << e;
}

TEST(ConfigErrors, UnknownProviderWithHint) {
  const std::string yaml = std::string(k_providers) +
                           "pairs:\n"
                           "  - { source: plex, target: trackt, features: { watchlist: true } }\n";
  EXPECT_EQ(only_error(yaml),
            "cw.yaml:5:29: pairs[0].target: no provider instance named \"trackt\" (did you mean "
            "\"trakt\"?); defined: plex, trakt");
}

TEST(ConfigErrors, FeatureEnabledTwiceForTheSameProviders) {
  const std::string yaml =
      std::string(k_providers) +
      "pairs:\n"
      "  - { name: a, source: plex, target: trakt, features: { watchlist: true, history: true } }\n"
      "  - { name: b, source: trakt, target: plex, features: { watchlist: { add: true }, ratings: "
      "true } }\n";
  const std::string e = only_error(yaml);
  EXPECT_EQ(e.rfind("cw.yaml:6:68: pairs[1].features.watchlist: watchlist between plex and trakt "
                    "is already enabled in pairs[0]",
                    0),
            0u)
      << e;
  // A disabled pair does not claim its features.
  const std::string ok =
      std::string(k_providers) +
      "pairs:\n"
      "  - { name: a, enabled: false, source: plex, target: trakt, features: { watchlist: true } "
      "}\n"
      "  - { name: b, source: trakt, target: plex, features: { watchlist: true } }\n";
  EXPECT_TRUE(errors_of(ok).empty());
}

TEST(ConfigErrors, DuplicateKeysInAMapping) {
  EXPECT_EQ(only_error("sync:\n  dry_run: true\n  dry_run: false\n"),
            "cw.yaml:3:3: sync.dry_run: duplicate key; each key may appear once in a mapping");
  const std::string yaml = std::string(k_providers) +
                           "pairs:\n"
                           "  - source: plex\n"
                           "    target: trakt\n"
                           "    features:\n"
                           "      watchlist: true\n"
                           "      watchlist: { remove: true }\n";
  EXPECT_EQ(only_error(yaml),
            "cw.yaml:9:7: pairs[0].features.watchlist: duplicate key; each key may appear once "
            "in a mapping");
}

TEST(ConfigErrors, PairConsistency) {
  const std::string head = std::string(k_providers) + "pairs:\n";
  EXPECT_NE(only_error(head + "  - { source: plex, target: plex, features: { watchlist: true } }\n")
                .find("pairs[0].target: source and target are the same instance \"plex\""),
            std::string::npos);
  EXPECT_NE(only_error(head + "  - { source: plex, target: trakt, source_of_truth: simkl, "
                              "features: { watchlist: true } }\n")
                .find("pairs[0].source_of_truth: expected the pair's source or target (plex or "
                      "trakt), got \"simkl\""),
            std::string::npos);
  EXPECT_NE(only_error(head + "  - { source: plex, target: trakt, mode: two-way, features: { "
                              "watchlist: { removal: mirror } } }\n")
                .find("pairs[0].features.watchlist.removal: mirror removal applies to one-way"),
            std::string::npos);
  EXPECT_NE(only_error(head + "  - { source: plex, target: trakt, features: { watchlist: { "
                              "rewatches: true } } }\n")
                .find("pairs[0].features.watchlist.rewatches: only the history feature"),
            std::string::npos);
  EXPECT_NE(only_error(head + "  - { source: plex, target: trakt }\n")
                .find("cw.yaml:5:5: pairs[0]: missing key \"features\""),
            std::string::npos);
  EXPECT_NE(only_error(head + "  - { target: trakt, features: { watchlist: true } }\n")
                .find("pairs[0]: missing key \"source\""),
            std::string::npos);
  EXPECT_NE(
      only_error(head + "  - { source: plex, target: trakt, features: { watchlists: true } }\n")
          .find("pairs[0].features.watchlists: unknown key (did you mean \"watchlist\"?)"),
      std::string::npos);
  EXPECT_NE(only_error(head + "  - { source: plex, target: trakt, features: { history: { "
                              "tolerance: 2d } } }\n")
                .find("expected a tolerance from 0s to 1d, got 2d"),
            std::string::npos);
}

TEST(ConfigErrors, SecretReferencesMustBeWhole) {
  EXPECT_EQ(only_error("providers:\n  x: { plugin: p, url: \"http://${env:HOST}:1\" }\n"),
            "cw.yaml:2:24: providers.x.url: expected the whole value to be ${env:NAME} or "
            "${file:PATH}, got \"...${env:HOST}...\" (at /providers/x/url)");
  EXPECT_NE(only_error("providers:\n  x: { plugin: p, token: \"${vault:abc}\" }\n")
                .find("providers.x.token: expected the whole value to be"),
            std::string::npos);
  EXPECT_NE(only_error("providers:\n  x: { plugin: p, token: \"${env:1BAD}\" }\n")
                .find("expected an environment variable name"),
            std::string::npos);
}

TEST(ConfigErrors, MalformedYamlIsOneLineWithPosition) {
  auto errors = errors_of("providers:\n  x: [1, 2\npairs: []\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("cw.yaml:", 0), 0u);
  EXPECT_NE(errors[0].find(": invalid YAML: "), std::string::npos);
  EXPECT_EQ(errors[0].find('\n'), std::string::npos);
  EXPECT_NE(only_error("a: b: c\n").find("invalid YAML"), std::string::npos);
}

TEST(ConfigErrors, EmptyOrNonMappingFile) {
  EXPECT_NE(only_error("").find("the file is empty"), std::string::npos);
  EXPECT_EQ(
      only_error("- a\n- b\n"),
      "cw.yaml:1:1: expected a mapping with providers, pairs and sync at the top, got a list");
  EXPECT_NE(only_error("version: 2\n").find("this cw reads configuration version 1, got 2"),
            std::string::npos);
}

TEST(ConfigErrors, AllErrorsAreReportedInFileOrder) {
  auto errors = errors_of("sync:\n  dry_run: 1\n  pending_ttl: x\nstate_dirr: /x\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].rfind("cw.yaml:2:", 0), 0u);
  EXPECT_EQ(errors[1].rfind("cw.yaml:3:", 0), 0u);
  EXPECT_EQ(
      errors[2].rfind("cw.yaml:4:1: state_dirr: unknown key (did you mean \"state_dir\"?)", 0), 0u);
  auto joined = load_config("/nonexistent/cw.yaml");
  ASSERT_FALSE(joined);
  EXPECT_EQ(joined.error().kind, ErrorKind::invalid_arg);
}

}  // namespace
}  // namespace cw::config
