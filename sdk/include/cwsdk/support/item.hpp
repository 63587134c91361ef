// cwsdk/support/item.hpp: the item document (sdk/schema/item.schema.json) as a C++ type.
//
// One movie, show, season or episode, with every field of the ABI 1.1 item. A plugin fills
// one per entry of a service reply and hands it to an IndexWriter, and gets the items of
// write requests back as Items (cwsdk/support/requests.hpp).
//
//   cwsdk::Item m = cwsdk::make_movie("The Matrix", 1999);
//   m.ids.set("imdb", "tt0133093");
//   m.watched_at = cwsdk::parse_rfc3339(entry_watched_at);    // ms since the epoch
//
//   cwsdk::Item e = cwsdk::make_episode(cwsdk::ShowRef{"Breaking Bad", 2008, show_ids}, 1, 2);
//   e.extra = {{"history_id", 123456}};                          // one play's own id (1.1)
//
// Times are std::int64_t milliseconds since the epoch (cwsdk/support/time.hpp) and are
// written as UTC RFC 3339. `rating` is on cw's 0-10 scale (convert with
// cwsdk/support/rating.hpp). check() says whether the item holds to the schema; an
// IndexWriter refuses an item that does not, with that message.
#ifndef CWSDK_SUPPORT_ITEM_HPP
#define CWSDK_SUPPORT_ITEM_HPP

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <cwsdk/support/ids.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/result.hpp>
#include <cwsdk/support/time.hpp>

namespace cwsdk {

enum class ItemType { movie, show, season, episode };

inline std::string_view item_type_name(ItemType t) {
  switch (t) {
    case ItemType::movie:
      return "movie";
    case ItemType::show:
      return "show";
    case ItemType::season:
      return "season";
    case ItemType::episode:
      return "episode";
  }
  return "movie";
}

// Exactly the four names of the schema.
inline std::optional<ItemType> item_type_from_name(std::string_view name) {
  if (name == "movie") return ItemType::movie;
  if (name == "show") return ItemType::show;
  if (name == "season") return ItemType::season;
  if (name == "episode") return ItemType::episode;
  return std::nullopt;
}

// The show a season or episode belongs to.
struct ShowRef {
  std::string title;
  std::optional<int> year;
  Ids ids;
  bool empty() const { return title.empty() && !year && ids.empty(); }
};

struct Item {
  ItemType type = ItemType::movie;
  std::string title;
  std::optional<int> year;
  Ids ids;
  ShowRef show;  // seasons and episodes
  std::optional<int> season;
  std::optional<int> episode;
  std::optional<int> episode_end;          // 1.1: a multi-episode file's last episode
  std::optional<int> absolute_episode;     // 1.1: absolute number across the show (anime)
  std::optional<std::int64_t> watched_at;  // history: one item per play
  std::optional<double> rating;            // 0..10
  std::optional<std::int64_t> rated_at;
  std::optional<std::int64_t> progress_ms;
  std::optional<std::int64_t> duration_ms;
  std::optional<std::int64_t> progress_at;
  std::optional<double> progress_percent;  // 1.1: 0..100, for services that store only that
  std::string key;                         // set by the host in write requests
  Json extra;                              // plugin-private, passed back unchanged; null: none

  // The first way this item breaks the item schema, or OK.
  Status check() const {
    auto bad = [](std::string what) { return Failure::internal("item: " + std::move(what)); };
    if (year && (*year < 1800 || *year > 3000))
      return bad("year " + std::to_string(*year) + " is outside 1800..3000");
    if (show.year && (*show.year < 1800 || *show.year > 3000))
      return bad("show year " + std::to_string(*show.year) + " is outside 1800..3000");
    if (season && *season < 0) return bad("season is negative");
    if (episode && *episode < 0) return bad("episode is negative");
    if (episode_end && (*episode_end < 0 || (episode && *episode_end < *episode)))
      return bad("episode_end is before episode");
    if (absolute_episode && *absolute_episode < 1) return bad("absolute_episode is below 1");
    if (rating && (!std::isfinite(*rating) || *rating < 0 || *rating > 10))
      return bad("rating " + std::to_string(*rating) + " is outside 0..10 (convert with to_scale)");
    if (progress_ms && *progress_ms < 0) return bad("progress_ms is negative");
    if (duration_ms && *duration_ms < 0) return bad("duration_ms is negative");
    if (progress_percent &&
        (!std::isfinite(*progress_percent) || *progress_percent < 0 || *progress_percent > 100))
      return bad("progress_percent is outside 0..100");
    for (const auto& t : {watched_at, rated_at, progress_at}) {
      if (t && !from_epoch_ms(*t)) return bad("a timestamp is outside the years 1..9999");
    }
    if (!extra.is_null() && !extra.is_object()) return bad("extra must be an object");
    return {};
  }

  // The ABI document. Writes only the fields that are set (and `key` when not empty).
  Json to_json() const {
    Json j = Json::object();
    j["type"] = std::string(item_type_name(type));
    if (!title.empty()) j["title"] = title;
    if (year) j["year"] = *year;
    if (!ids.empty()) j["ids"] = ids.to_json();
    if (!show.empty()) {
      Json s = Json::object();
      if (!show.title.empty()) s["title"] = show.title;
      if (show.year) s["year"] = *show.year;
      if (!show.ids.empty()) s["ids"] = show.ids.to_json();
      j["show"] = std::move(s);
    }
    if (season) j["season"] = *season;
    if (episode) j["episode"] = *episode;
    if (episode_end) j["episode_end"] = *episode_end;
    if (absolute_episode) j["absolute_episode"] = *absolute_episode;
    if (watched_at) j["watched_at"] = format_rfc3339(*watched_at);
    if (rating) put_number(j, "rating", *rating);
    if (rated_at) j["rated_at"] = format_rfc3339(*rated_at);
    if (progress_ms) j["progress_ms"] = *progress_ms;
    if (duration_ms) j["duration_ms"] = *duration_ms;
    if (progress_at) j["progress_at"] = format_rfc3339(*progress_at);
    if (progress_percent) put_number(j, "progress_percent", *progress_percent);
    if (!key.empty()) j["key"] = key;
    if (!extra.is_null()) j["extra"] = extra;
    return j;
  }

  // Reads an item document (as the host sends it in requests). Checked: a wrong type in
  // any field fails with "<field>: expected ..., got ..."; null reads as absent; ids that
  // are no id are dropped (ids.hpp); unknown members are ignored.
  static Result<Item> from_json(const Json& j) {
    if (!j.is_object())
      return Failure::invalid_arg(std::string("item: expected an object, got ") +
                                  std::string(detail::json_type_name(j)));
    Item it;
    auto type_name = cwsdk::get<std::string>(j, "type");
    if (!type_name) return invalid(type_name.error());
    const auto type = item_type_from_name(*type_name);
    if (!type)
      return Failure::invalid_arg("item: /type: '" + *type_name +
                                  "' is not one of movie, show, season, episode");
    it.type = *type;
    Status st = read_fields(j, it);
    if (!st) return st.error();
    return it;
  }

 private:
  // A field error of a document the host sent: the request is wrong.
  static Failure invalid(const Failure& f) {
    Failure out = f.context("item");
    out.status = CW_STATUS_INVALID_ARG;
    out.reason = Reason::rejected;
    return out;
  }

  static void put_number(Json& j, const char* name, double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15)
      j[name] = static_cast<std::int64_t>(v);
    else
      j[name] = v;
  }

  static Status read_time(const Json& j, const char* name, std::optional<std::int64_t>& out) {
    auto text = cwsdk::get_optional<std::string>(j, name);
    if (!text) return invalid(text.error());
    if (!*text) return {};
    out = parse_rfc3339(**text);
    if (!out)
      return Failure::invalid_arg(std::string("item: /") + name + ": '" + **text +
                                  "' is not an RFC 3339 timestamp");
    return {};
  }

  template <typename T>
  static Status read_opt(const Json& j, const char* name, std::optional<T>& out) {
    auto v = cwsdk::get_optional<T>(j, name);
    if (!v) return invalid(v.error());
    out = *v;
    return {};
  }

  static Status read_ids(const Json& j, const char* pointer, Ids& out) {
    const Json* v = cwsdk::find(j, pointer);
    if (v == nullptr) return {};
    if (!v->is_object())
      return Failure::invalid_arg(std::string("item: ") + pointer + ": expected an object, got " +
                                  std::string(detail::json_type_name(*v)));
    out = Ids::from_json(*v);
    return {};
  }

  static Status read_fields(const Json& j, Item& it) {
    std::optional<std::string> title, show_title, key;
    Status st;
    auto step = [&st](Status s) {
      if (st && !s) st = std::move(s);
    };
    step(read_opt(j, "title", title));
    step(read_opt(j, "year", it.year));
    step(read_ids(j, "/ids", it.ids));
    if (const Json* s = cwsdk::find(j, "show")) {
      if (!s->is_object()) {
        step(Failure::invalid_arg("item: /show: expected an object"));
      } else {
        step(read_opt(*s, "title", show_title));
        step(read_opt(*s, "year", it.show.year));
        step(read_ids(*s, "/ids", it.show.ids));
      }
    }
    step(read_opt(j, "season", it.season));
    step(read_opt(j, "episode", it.episode));
    step(read_opt(j, "episode_end", it.episode_end));
    step(read_opt(j, "absolute_episode", it.absolute_episode));
    step(read_time(j, "watched_at", it.watched_at));
    step(read_opt(j, "rating", it.rating));
    step(read_time(j, "rated_at", it.rated_at));
    step(read_opt(j, "progress_ms", it.progress_ms));
    step(read_opt(j, "duration_ms", it.duration_ms));
    step(read_time(j, "progress_at", it.progress_at));
    step(read_opt(j, "progress_percent", it.progress_percent));
    step(read_opt(j, "key", key));
    if (const Json* e = cwsdk::find(j, "extra")) it.extra = *e;
    if (!st) return st;
    it.title = title.value_or("");
    it.show.title = show_title.value_or("");
    it.key = key.value_or("");
    Status valid = it.check();
    if (!valid) return Failure::invalid_arg(valid.error().message);
    return {};
  }
};

inline Item make_movie(std::string title, std::optional<int> year = std::nullopt) {
  Item it;
  it.type = ItemType::movie;
  it.title = std::move(title);
  it.year = year;
  return it;
}
inline Item make_show(std::string title, std::optional<int> year = std::nullopt) {
  Item it = make_movie(std::move(title), year);
  it.type = ItemType::show;
  return it;
}
inline Item make_season(ShowRef show, int season) {
  Item it;
  it.type = ItemType::season;
  it.show = std::move(show);
  it.season = season;
  return it;
}
inline Item make_episode(ShowRef show, int season, int episode) {
  Item it;
  it.type = ItemType::episode;
  it.show = std::move(show);
  it.season = season;
  it.episode = episode;
  return it;
}

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_ITEM_HPP
