// No plugin reply can end the process (SDK 1.1, contract fixes). Every member of every
// reply a sync reads (health, build_index and its items, add outcomes) is replaced in
// turn by null, a value of the wrong type, a huge value, and nothing at all; `cw run`
// must answer each with an exit code it documents (never the CLI's catch-all, never a
// signal), say what went wrong on one line, and leave a state database `cw state show`
// still reads. Driven through a real configuration and the `replies` test plugin.
#include <fstream>
#include <functional>
#include <iterator>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/null_sink.h>

#include <cw/cli/exit_codes.hpp>
#include <cw/plugin/library.hpp>
#include <cw/plugin/provider_instance.hpp>
#include <cw/services/cancel/cancel_token.hpp>
#include <cw/services/clock/clock.hpp>
#include <cw/services/kv/memory_kv_store.hpp>
#include <cw/services/log/logger.hpp>

#include "cli_test_support.hpp"

using cw::test::cw_main;
using cw::test::TempDir;
using nlohmann::json;

namespace {

const json k_item = {
    {"type", "movie"}, {"title", "Alpha"}, {"year", 2001}, {"ids", {{"imdb", "tt0000001"}}}};

struct Replies {
  json source_index = {{"items", json::array({k_item})},
                       {"complete", true},
                       {"expected_total", 1},
                       {"received", 1},
                       {"watermark", "w1"},
                       {"semantics", "present"}};
  json target_health = {{"status", "ok"},
                        {"message", "hi"},
                        {"features", {{"watchlist", true}}},
                        {"retry_after_ms", 0}};
  json target_add = {{"outcomes", json::array({{{"key", "$KEY"},
                                                {"status", "confirmed"},
                                                {"reason", nullptr},
                                                {"message", "added"}}})}};
};

struct Scene {
  TempDir dir;
  std::string config;

  explicit Scene(const Replies& r, const std::string& feature = "watchlist") {
    config = (dir.path / "cw.yaml").string();
    std::ofstream(config)
        << "state_dir: state\n"
        // In process: what is tested is the host reading replies; isolation would only add
        // a plugin runner start (slow under the sanitizers) to each of hundreds of runs.
        << "plugins: {isolation: none}\n"
        << "providers:\n"
        << "  src:\n    plugin: replies\n    replies: {\"build_index\": " << r.source_index.dump()
        << "}\n"
        << "  dst:\n    plugin: replies\n    replies: {\"health\": " << r.target_health.dump()
        << ", \"add\": " << r.target_add.dump() << "}\n"
        << "pairs:\n  - name: p\n    source: src\n    target: dst\n    mode: one-way\n"
        << "    features:\n      " << feature << ": { add: true, remove: true }\n";
  }
  // Replaces the scene's one-line `plugins:` block.
  void set_plugins(const std::string& block) const {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "plugins: {isolation: none}";
    text.replace(text.find(from), from.size(), "plugins: " + block);
    std::ofstream(config) << text;
  }
  cw::test::Run cw(std::vector<std::string> args) const {
    args.insert(args.begin(),
                {"--log-level", "off", "--plugin-dir", CW_PROBE_PLUGIN_DIR, "--config", config});
    return cw_main(args);
  }
};

// The report of `cw run --output json` ({"plan":..,"report":..}); null when unreadable.
json report_of(const std::string& out) {
  const json doc = json::parse(out, nullptr, false);
  return doc.is_object() && doc.contains("report") ? doc["report"] : json();
}

// The values a hostile or buggy plugin might put where `v` belongs.
std::vector<std::pair<std::string, json>> replacements(const json& v) {
  std::vector<std::pair<std::string, json>> out = {{"null", nullptr}};
  if (v.is_string())
    out.push_back({"a number", 42});
  else if (v.is_array())
    out.push_back({"an object", json{{"a", 1}}});
  else
    out.push_back({"a string", "x"});
  if (v.is_string() || v.is_null()) out.push_back({"a 1 MB string", std::string(1 << 20, 'x')});
  if (v.is_number() || v.is_null()) out.push_back({"a huge number", 1e300});
  if (v.is_number_integer()) out.push_back({"a negative number", -1});
  if (v.is_boolean()) out.push_back({"a number", 1});
  if (v.is_array()) {
    json many = json::array();
    for (int i = 0; i < 5000; ++i) many.push_back(v.empty() ? json(i) : v.front());
    out.push_back({"5000 entries", std::move(many)});
  }
  if (v.is_object()) {
    json wide = v;
    for (int i = 0; i < 5000; ++i) wide["extra" + std::to_string(i)] = i;
    out.push_back({"5000 unknown members", std::move(wide)});
  }
  return out;
}

// Runs cw with `doc` at `pointer` of the reply `which` replaced by each value in turn
// (and removed), and checks what every run must hold.
void hammer(const std::string& which, const std::string& pointer,
            const std::function<json&(Replies&)>& reply) {
  Replies base;
  const json::json_pointer ptr(pointer);
  const json original = reply(base).at(ptr);
  auto cases = replacements(original);
  cases.push_back({"missing", json()});
  for (const auto& [label, value] : cases) {
    SCOPED_TRACE(which + " " + pointer + " = " + label);
    Replies r;
    json& doc = reply(r);
    if (label == "missing") {
      json& parent = doc.at(ptr.parent_pointer());
      if (parent.is_array())
        parent.erase(std::stoul(ptr.back()));
      else
        parent.erase(ptr.back());
    } else {
      doc.at(ptr) = value;
    }
    Scene s(r);
    const auto run = s.cw({"run", "--output", "json"});
    EXPECT_TRUE(run.code == cw::cli::k_exit_ok || run.code == cw::cli::k_exit_failure ||
                run.code == cw::cli::k_exit_partial)
        << run.code << " " << run.err;
    EXPECT_EQ(run.err.find("internal error"), std::string::npos) << run.err;
    if (!run.out.empty()) {
      const json report = report_of(run.out);
      ASSERT_TRUE(report.is_object()) << run.out.substr(0, 300);
      std::vector<json> errors = {report.value("errors", json::array())};
      for (const auto& pair : report.value("pairs", json::array()))
        errors.push_back(pair.value("errors", json::array()));
      for (const auto& list : errors)
        for (const auto& e : list) {
          ASSERT_TRUE(e.is_string());
          EXPECT_EQ(e.get<std::string>().find('\n'), std::string::npos) << e;
          EXPECT_LT(e.get<std::string>().size(), 2000U);
        }
    }
    const auto state = s.cw({"state", "show", "--output", "json"});
    EXPECT_EQ(state.code, cw::cli::k_exit_ok) << state.err;
  }
}

json& index_of(Replies& r) { return r.source_index; }
json& health_of(Replies& r) { return r.target_health; }
json& add_of(Replies& r) { return r.target_add; }

}  // namespace

TEST(PluginReplies, BaseCaseSyncs) {
  Scene s{Replies{}};
  const auto run = s.cw({"run", "--output", "json"});
  ASSERT_EQ(run.code, cw::cli::k_exit_ok) << run.err << run.out;
  EXPECT_EQ(report_of(run.out)["pairs"][0]["outcomes"]["confirmed"], 1) << run.out;
  // A run that commits leaves a backup of the state (`cw state restore`).
  const auto backup = report_of(run.out).value("backup", std::string());
  EXPECT_TRUE(std::filesystem::is_regular_file(backup)) << run.out.substr(0, 400);
}

TEST(PluginReplies, EveryHealthMember) {
  for (const char* p : {"/status", "/message", "/features", "/retry_after_ms"})
    hammer("health", p, health_of);
}

TEST(PluginReplies, EveryIndexMember) {
  for (const char* p : {"/items", "/complete", "/expected_total", "/received", "/watermark",
                        "/semantics", "/items/0"})
    hammer("build_index", p, index_of);
}

TEST(PluginReplies, EveryItemMember) {
  for (const char* p :
       {"/items/0/type", "/items/0/title", "/items/0/year", "/items/0/ids", "/items/0/ids/imdb"})
    hammer("build_index", p, index_of);
}

TEST(PluginReplies, EveryOutcomeMember) {
  for (const char* p : {"/outcomes", "/outcomes/0", "/outcomes/0/key", "/outcomes/0/status",
                        "/outcomes/0/reason", "/outcomes/0/message"})
    hammer("add", p, add_of);
}

TEST(PluginReplies, WholeRepliesThatAreNotDocuments) {
  for (const json& bad :
       {json(nullptr), json(42), json("{\"items\": [tr"), json("not json"), json::array()}) {
    SCOPED_TRACE(bad.dump());
    for (int which = 0; which < 3; ++which) {
      Replies r;
      (which == 0 ? r.source_index : which == 1 ? r.target_health : r.target_add) = bad;
      Scene s(r);
      const auto run = s.cw({"run", "--output", "json"});
      EXPECT_TRUE(run.code == cw::cli::k_exit_failure || run.code == cw::cli::k_exit_partial ||
                  run.code == cw::cli::k_exit_ok)
          << run.code << run.err;
      EXPECT_EQ(run.err.find("internal error"), std::string::npos) << run.err;
    }
  }
}

// The cases that used to end the process, with what each now means.
TEST(PluginReplies, NullAndNumbersWhereStringsBelong) {
  {
    Replies r;
    r.target_health["message"] = nullptr;  // a null message is no message
    Scene s(r);
    const auto run = s.cw({"run", "--output", "json"});
    EXPECT_EQ(run.code, cw::cli::k_exit_ok) << run.err << run.out;
  }
  {
    Replies r;
    r.target_add["outcomes"][0]["status"] = "unresolved";
    r.target_add["outcomes"][0]["reason"] = nullptr;
    Scene s(r);
    const auto run = s.cw({"run", "--output", "json"});
    EXPECT_EQ(run.code, cw::cli::k_exit_partial) << run.err << run.out;
    EXPECT_EQ(report_of(run.out)["pairs"][0]["outcomes"]["unresolved"], 1) << run.out;
  }
  {
    // A malformed outcome vouches for nothing: the item is unknown (re-checked before
    // any resend), not confirmed and not failed.
    Replies r;
    r.target_add["outcomes"][0]["message"] = 42;
    Scene s(r);
    const auto run = s.cw({"run", "--output", "json"});
    EXPECT_EQ(run.code, cw::cli::k_exit_partial) << run.err << run.out;
    EXPECT_EQ(report_of(run.out)["pairs"][0]["outcomes"]["unknown"], 1) << run.out;
  }
}

// A reply past the cap is refused as a whole (a 200 MB title once took 325 s and was
// stored twice); the instance stays usable.
TEST(PluginReplies, AReplyPastTheCapIsRefusedNamingTheOperation) {
  cw::services::Logger logger(cw::services::LogLevel::off, cw::services::LogFormat::text,
                              std::make_shared<spdlog::sinks::null_sink_mt>());
  cw::services::ManualClock clock(1'700'000'000'000);
  cw::services::FlagCancelToken cancel;
  cw::services::MemoryKvStore kv;
  cw::plugin::HostServices services{logger, clock, cancel, &kv, nullptr, nullptr, false};
  auto lib = cw::plugin::Library::load(std::string(CW_PROBE_PLUGIN_DIR) + "/cw-provider-replies.so",
                                       services);
  ASSERT_TRUE(lib) << lib.error().message;
  json big = Replies{}.source_index;
  big["items"][0]["title"] = std::string(3000, 't');
  auto inst = cw::plugin::ProviderInstance::create(
      *lib, "big", json{{"replies", {{"build_index", big}}}}, services);
  ASSERT_TRUE(inst) << inst.error().message;
  (*inst)->set_max_reply_bytes(2048);
  const auto r = (*inst)->build_index("watchlist", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("build_index: the reply is larger than 2048 bytes"),
            std::string::npos)
      << r.error().message;
  (*inst)->set_max_reply_bytes(1 << 20);
  EXPECT_TRUE((*inst)->build_index("watchlist", std::nullopt));
}

// `plugins.max_reply` in cw.yaml is the cap every instance of a run gets: a 1.1 MB index
// passes the default (its over-long title leaves that item out) and fails the pair under
// a 1 MiB cap, with the provider, the operation and the cap named.
TEST(PluginReplies, TheReplyCapComesFromTheConfiguration) {
  Replies r;
  json big = k_item;
  big["title"] = std::string(1'100'000, 't');
  big["ids"]["imdb"] = "tt0000002";
  r.source_index["items"].push_back(big);
  Scene s(r);
  const auto passes = s.cw({"run", "--output", "json"});
  EXPECT_NE(passes.code, cw::cli::k_exit_failure) << passes.err << passes.out.substr(0, 400);
  s.set_plugins("{isolation: none, max_reply: 1MiB}");
  const auto capped = s.cw({"run", "--output", "json"});
  EXPECT_EQ(capped.code, cw::cli::k_exit_failure) << capped.err;
  EXPECT_NE(capped.out.find("provider src (plugin replies) build_index: the reply is larger than "
                            "1048576 bytes"),
            std::string::npos)
      << capped.out.substr(0, 600);
}

// `plugins.max_field` is the cap on an item's title in every reply of the run: a 5000-byte
// title leaves that item out under the default 4096 (the other item is still synced) and
// passes once the cap is raised.
TEST(PluginReplies, TheFieldCapComesFromTheConfiguration) {
  Replies r;
  json long_title = k_item;
  long_title["title"] = std::string(5000, 't');
  long_title["ids"]["imdb"] = "tt0000002";
  r.source_index["items"].push_back(long_title);
  r.source_index["expected_total"] = 2;
  r.source_index["received"] = 2;
  Scene s(r);
  // The adds `cw plan --output json` lists.
  const auto adds = [](const std::string& out) {
    const json plan = json::parse(out, nullptr, false);
    std::size_t n = 0;
    if (plan.is_object() && plan.contains("features"))
      for (const auto& a : plan["features"][0]["actions"]) n += a["kind"] == "add" ? 1 : 0;
    return n;
  };
  const auto capped = s.cw({"plan", "--output", "json"});
  EXPECT_EQ(adds(capped.out), 1U) << capped.out.substr(0, 600);
  s.set_plugins("{isolation: none, max_field: 8KiB}");
  const auto raised = s.cw({"plan", "--output", "json"});
  EXPECT_EQ(adds(raised.out), 2U) << raised.out.substr(0, 600);
}
