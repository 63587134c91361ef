// cw-sandbox's webhook senders (tests/fakes/core/webhook_sender) against the host's
// parsers: every source and action the sandbox can send is read back as the same event, so
// the end-to-end tests of `cw serve` drive the parsers with the servers' own formats.

#include <gtest/gtest.h>

#include <cw/scrobble/webhooks.hpp>

#include "core/webhook_sender.hpp"

namespace cw::scrobble {
namespace {

using nlohmann::json;

WebhookRequest as_request(const fakes::WebhookPost& post, const std::string& source) {
  WebhookRequest r;
  r.source = source;
  r.content_type = post.content_type;
  r.body = post.body;
  return r;
}

TEST(ScrobbleSenders, EverySourceAndActionReadsBack) {
  const json movie = {{"type", "movie"},
                      {"title", "Heat"},
                      {"year", 1995},
                      {"ids", {{"imdb", "tt0113277"}, {"tmdb", "949"}}}};
  const json episode = {{"type", "episode"}, {"title", "Pilot"}, {"show", {{"title", "Lost"}}},
                        {"season", 1},       {"episode", 2},     {"ids", {{"tvdb", "127131"}}}};
  struct Want {
    const char* action;
    Action parsed;
    bool watched;
  };
  const Want wants[] = {{"play", Action::start, false},
                        {"pause", Action::pause, false},
                        {"resume", Action::start, false},
                        {"stop", Action::stop, false},
                        {"watched", Action::stop, true}};
  for (const char* source : {"plex", "jellyfin", "emby", "tautulli"}) {
    for (const json& item : {movie, episode}) {
      for (const Want& w : wants) {
        fakes::WebhookEvent e;
        e.source = source;
        e.action = w.action;
        e.item = item;
        e.progress = 40;
        e.user = "alice";
        const std::string what = std::string(source) + " " + w.action + " " + item.dump();
        const auto post = fakes::build_webhook(e);
        EXPECT_EQ(post.path, std::string("/webhook/") + source);
        auto p = parse_webhook(as_request(post, source));
        ASSERT_TRUE(p) << what << ": " << p.error().message;
        EXPECT_EQ(p->action, w.parsed) << what;
        EXPECT_EQ(p->watched_hint, w.watched) << what;
        EXPECT_EQ(p->user, "alice") << what;
        ASSERT_TRUE(p->progress) << what;
        EXPECT_NEAR(*p->progress, 40, 0.5) << what;
        EXPECT_EQ(p->item["type"], item["type"]) << what;
        EXPECT_EQ(p->item["ids"].value("tvdb", p->item["ids"].value("imdb", "")),
                  item["ids"].value("tvdb", item["ids"].value("imdb", "")))
            << what;
        if (item["type"] == "episode") {
          EXPECT_EQ(p->item["season"], 1) << what;
          EXPECT_EQ(p->item["episode"], 2) << what;
          EXPECT_EQ(title_of(p->item), "Lost S01E02") << what;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cw::scrobble
