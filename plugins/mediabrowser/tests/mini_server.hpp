// A small scripted MediaBrowser server on the SDK's mock host, for the jellyfin and emby unit
// tests: rows of items with user data, the items query (types, filters, Ids, paging with
// TotalRecordCount, AnyProviderIdEquals on Emby) and the write routes, which change the rows.
// Tests add faults with the mock host's own routes (registered first, they win).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <cwsdk/testing/mock_host.hpp>

namespace mbtest {

using cwsdk::Json;
using cwsdk::testing::MockHost;
using cwsdk::testing::MockReply;
using cwsdk::testing::RecordedRequest;

inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

inline std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct MiniServer {
  bool emby = false;
  std::string uid = "u1";
  std::vector<Json> rows;        // BaseItemDto with "UserData"
  std::int64_t total_bonus = 0;  // TotalRecordCount claims this many more rows
  std::vector<Json> users = {
      Json{{"Id", "u1"}, {"Name", "alice"}, {"Policy", {{"IsAdministrator", true}}}}};

  static Json movie(const std::string& id, const std::string& name, int year, Json pids) {
    return {{"Id", id},
            {"Name", name},
            {"Type", "Movie"},
            {"ProductionYear", year},
            {"ProviderIds", std::move(pids)},
            {"RunTimeTicks", 72000000000LL},
            {"UserData", {{"Played", false}, {"IsFavorite", false}, {"PlaybackPositionTicks", 0}}}};
  }
  static Json series(const std::string& id, const std::string& name, int year, Json pids) {
    Json s = movie(id, name, year, std::move(pids));
    s["Type"] = "Series";
    s.erase("RunTimeTicks");
    return s;
  }
  static Json episode(const std::string& id, const std::string& series_id, int season, int ep,
                      Json pids = Json::object()) {
    Json e = movie(id, "Episode " + std::to_string(ep), 2010, std::move(pids));
    e["Type"] = "Episode";
    e["SeriesId"] = series_id;
    e["SeriesName"] = "Show " + series_id;
    e["ParentIndexNumber"] = season;
    e["IndexNumber"] = ep;
    return e;
  }

  Json* find(const std::string& id) {
    for (auto& r : rows) {
      if (r["Id"] == id) return &r;
    }
    return nullptr;
  }

  MockReply items(const RecordedRequest& r) const {
    const auto types = split(r.query_value("IncludeItemTypes").value_or(""));
    const auto ids = split(r.query_value("Ids").value_or(""));
    const auto filters = split(r.query_value("Filters").value_or(""));
    const auto any = split(r.query_value("AnyProviderIdEquals").value_or(""));
    std::vector<Json> hits;
    for (const auto& row : rows) {
      if (!types.empty() && std::find(types.begin(), types.end(), row["Type"]) == types.end())
        continue;
      if (!ids.empty() && std::find(ids.begin(), ids.end(), row["Id"]) == ids.end()) continue;
      const Json& ud = row["UserData"];
      bool ok = true;
      for (const auto& f : filters) {
        if (f == "IsPlayed") ok = ok && ud.value("Played", false);
        if (f == "IsFavorite") ok = ok && ud.value("IsFavorite", false);
        if (f == "IsResumable") ok = ok && ud.value("PlaybackPositionTicks", 0LL) > 0;
      }
      if (emby && !any.empty()) {
        bool match = false;
        for (const auto& pair : any) {
          const auto dot = pair.find('.');
          for (const auto& [k, v] : row["ProviderIds"].items()) {
            if (lower(k) == lower(pair.substr(0, dot)) && v == pair.substr(dot + 1)) match = true;
          }
        }
        ok = ok && match;
      }
      if (ok) hits.push_back(row);
    }
    const std::size_t start = std::stoul(r.query_value("StartIndex").value_or("0"));
    const std::size_t limit = std::stoul(r.query_value("Limit").value_or("100000"));
    Json page = Json::array();
    for (std::size_t i = start; i < hits.size() && i < start + limit; ++i) page.push_back(hits[i]);
    Json out = {{"Items", page},
                {"TotalRecordCount", static_cast<std::int64_t>(hits.size()) + total_bonus}};
    return MockReply::json(200, out);
  }

  // Installs the routes. The item id is the last path segment before any /Delete.
  void install(MockHost& host) {
    const std::string items_path = emby ? "/Users/" + uid + "/Items" : "/Items";
    host.on("GET", items_path).handle([this](const RecordedRequest& r) { return items(r); });
    host.on("GET", "/System/Info").reply_json(200, {{"Version", emby ? "4.8.11.0" : "10.11.11"}});
    host.on("GET", "/Users/Me").reply_json(200, users[0]);
    host.on("GET", "/Users/Query").handle([this](const RecordedRequest&) {
      return MockReply::json(200, {{"Items", users}, {"TotalRecordCount", users.size()}});
    });
    host.on("GET", "/Users").handle([this](const RecordedRequest&) {
      return MockReply::json(200, users);
    });
    host.on("GET", "/Users/*").handle([this](const RecordedRequest& r) {
      const std::string id = r.path.substr(r.path.rfind('/') + 1);
      for (const auto& u : users) {
        if (u["Id"] == id) return MockReply::json(200, u);
      }
      return MockReply::with(404);
    });
    auto set = [this](const std::string& id, const char* field, Json v) -> MockReply {
      Json* row = find(id);
      if (row == nullptr) return MockReply::with(404);
      (*row)["UserData"][field] = std::move(v);
      return MockReply::json(200, (*row)["UserData"]);
    };
    auto last_id = [](const RecordedRequest& r) {
      std::string p = r.path;
      if (p.size() > 7 && p.substr(p.size() - 7) == "/Delete") p.resize(p.size() - 7);
      return p.substr(p.rfind('/') + 1);
    };
    const std::string played = emby ? "/Users/" + uid + "/PlayedItems/*" : "/UserPlayedItems/*";
    const std::string fav = emby ? "/Users/" + uid + "/FavoriteItems/*" : "/UserFavoriteItems/*";
    host.on("POST", played).handle([this, set, last_id](const RecordedRequest& r) {
      const std::string id = last_id(r);
      auto date = r.query_value(emby ? "DatePlayed" : "datePlayed");
      Json* row = find(id);
      if (row != nullptr && date) (*row)["UserData"]["LastPlayedDate"] = *date;
      return set(id, "Played", true);
    });
    host.on("DELETE", played).handle([set, last_id](const RecordedRequest& r) {
      return set(last_id(r), "Played", false);
    });
    host.on("POST", played + "/Delete").handle([set, last_id](const RecordedRequest& r) {
      return set(last_id(r), "Played", false);
    });
    host.on("POST", fav).handle([set, last_id](const RecordedRequest& r) {
      return set(last_id(r), "IsFavorite", true);
    });
    host.on("DELETE", fav).handle([set, last_id](const RecordedRequest& r) {
      return set(last_id(r), "IsFavorite", false);
    });
    const std::string ud = emby ? "/Users/" + uid + "/Items/*/UserData" : "/UserItems/*/UserData";
    host.on("POST", ud).handle([this](const RecordedRequest& r) {
      const std::string p = r.path.substr(0, r.path.size() - 9);
      Json* row = find(p.substr(p.rfind('/') + 1));
      if (row == nullptr) return MockReply::with(404);
      const Json body = r.json_body();
      for (const auto& [k, v] : body.items()) (*row)["UserData"][k] = v;
      return MockReply::json(200, (*row)["UserData"]);
    });
  }
};

}  // namespace mbtest
