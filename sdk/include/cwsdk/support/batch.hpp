// cwsdk/support/batch.hpp: exact per-key outcomes from a batch write reply.
//
// Trakt, SIMKL and MDBList answer a batch write with counts per kind and a list of what
// they could not find:
//   {"added": {"movies": 2, "shows": 0}, "existing": {"movies": 1},
//    "not_found": {"movies": [{"ids": {"imdb": "tt0000001"}}], "shows": []}}
// cw never infers one item's fate from a count alone. BatchMapper gives each sent item
// the outcome the reply proves, and "unknown" where it proves nothing:
// * an item whose ids match a not_found entry: unresolved / not_found;
// * `done` or `already` given as lists of entries: matched items are confirmed / skipped;
// * given as counts: when done + already equals the number of the bucket's remaining items,
//   they are all confirmed (or all skipped when done is 0); when the counts disagree, every
//   remaining item of that bucket is unresolved / unknown (the host re-checks them);
// * removals (absent_counts_as_done): an item neither deleted nor listed as not found is
//   absent from the service either way, so it is confirmed.
// Entries are matched by any shared normalised id (ids.hpp), read from an entry's "ids"
// object or, when it has none, from the entry itself.
//
//   cwsdk::BatchMapper batch;
//   for (const cwsdk::Item& it : req->items) batch.sent(it, it.type == ItemType::movie ? "movies" :
//   "shows"); auto reply = client.json(cwsdk::http::Request::post("/sync/watchlist").json(body));
//   cwsdk::Outcomes outcomes;
//   if (!reply) outcomes.fail_all(req->items, reply.error());
//   else batch.map(*reply, cwsdk::BatchShape::added(), outcomes);
//   return outcomes.reply(*req);
#ifndef CWSDK_SUPPORT_BATCH_HPP
#define CWSDK_SUPPORT_BATCH_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <cwsdk/support/ids.hpp>
#include <cwsdk/support/item.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/replies.hpp>
#include <cwsdk/support/result.hpp>

namespace cwsdk {

// Which members of the reply say what.
struct BatchShape {
  std::string done = "added";           // items the service changed: a count or a list
  std::string already = "existing";     // items already as asked ("" when there is none)
  std::string not_found = "not_found";  // items the service could not identify
  bool absent_counts_as_done = false;   // removals: unreported means absent anyway

  static BatchShape added() { return BatchShape{}; }
  static BatchShape deleted() { return BatchShape{"deleted", "", "not_found", true}; }
  static BatchShape updated() { return BatchShape{"updated", "existing", "not_found", false}; }
};

class BatchMapper {
 public:
  // One item as sent, in `bucket` (the reply's kind member: "movies", "shows",
  // "episodes"...), with the ids the service will echo: the item's own ids, or for a
  // season or episode sent by its show, the show's.
  void sent(const Item& item, std::string bucket) {
    Ids ids = item.ids;
    if (ids.empty()) ids = item.show.ids;
    sent(item.key, std::move(bucket), std::move(ids));
  }
  void sent(std::string key, std::string bucket, Ids ids) {
    m_sent.push_back(Sent{std::move(key), std::move(bucket), std::move(ids)});
  }

  // Records one outcome per sent key in `out`. A reply that is not an object, or lacks
  // the `done` member, leaves every item unresolved / unknown and is returned as a
  // failure (for a log line); the outcomes are written either way.
  Status map(const Json& reply, const BatchShape& shape, Outcomes& out) const {
    std::vector<bool> settled(m_sent.size(), false);
    if (!reply.is_object() || cwsdk::find(reply, shape.done) == nullptr) {
      const std::string why = "the service's reply has no '" + shape.done + "' member";
      for (const Sent& s : m_sent) out.unresolved(s.key, Reason::unknown, why);
      return Failure::internal(why);
    }
    for (const std::string& bucket : buckets()) map_bucket(reply, shape, bucket, settled, out);
    return {};
  }

 private:
  struct Sent {
    std::string key;
    std::string bucket;
    Ids ids;
  };

  std::vector<std::string> buckets() const {
    std::vector<std::string> out;
    for (const Sent& s : m_sent) {
      bool seen = false;
      for (const auto& b : out) seen = seen || b == s.bucket;
      if (!seen) out.push_back(s.bucket);
    }
    return out;
  }

  static Ids entry_ids(const Json& entry) {
    if (const Json* ids = cwsdk::find(entry, "ids"); ids != nullptr && ids->is_object())
      return Ids::from_json(*ids);
    return Ids::from_json(entry);
  }

  // Settles the unsettled items of `bucket` that match an entry of `list`.
  template <typename Fn>
  void match_list(const Json& list, const std::string& bucket, std::vector<bool>& settled,
                  Fn&& settle) const {
    for (const Json& entry : list) {
      const Ids ids = entry_ids(entry);
      if (ids.empty()) continue;
      for (std::size_t i = 0; i < m_sent.size(); ++i) {
        if (settled[i] || m_sent[i].bucket != bucket) continue;
        if (m_sent[i].ids.shares_id_with(ids)) {
          settled[i] = true;
          settle(m_sent[i].key);
        }
      }
    }
  }

  void map_bucket(const Json& reply, const BatchShape& shape, const std::string& bucket,
                  std::vector<bool>& settled, Outcomes& out) const {
    auto member = [&](const std::string& name) -> const Json* {
      if (name.empty()) return nullptr;
      const Json* group = cwsdk::find(reply, name);
      if (group == nullptr || !group->is_object()) return nullptr;
      return cwsdk::find(*group, bucket);
    };
    if (const Json* nf = member(shape.not_found); nf != nullptr && nf->is_array()) {
      match_list(*nf, bucket, settled, [&](const std::string& key) {
        out.unresolved(key, Reason::not_found, "the service could not identify it");
      });
    }
    const Json* done = member(shape.done);
    const Json* already = member(shape.already);
    bool lists = false;
    if (done != nullptr && done->is_array()) {
      lists = true;
      match_list(*done, bucket, settled, [&](const std::string& key) { out.confirmed(key); });
    }
    if (already != nullptr && already->is_array()) {
      lists = true;
      match_list(*already, bucket, settled,
                 [&](const std::string& key) { out.skipped(key, "already as asked"); });
    }
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < m_sent.size(); ++i) {
      if (!settled[i] && m_sent[i].bucket == bucket) rest.push_back(i);
    }
    if (rest.empty()) return;
    if (shape.absent_counts_as_done) {
      for (auto i : rest) out.confirmed(m_sent[i].key, "absent from the service");
      return;
    }
    const auto d = lists ? std::optional<std::int64_t>() : count_of(done);
    const auto a = lists ? std::optional<std::int64_t>(0) : count_of(already);
    const auto n = static_cast<std::int64_t>(rest.size());
    if (!lists && d && a && *d + *a == n) {
      for (auto i : rest) {
        if (*a == 0)
          out.confirmed(m_sent[i].key);
        else if (*d == 0)
          out.skipped(m_sent[i].key, "already as asked");
        else
          out.confirmed(m_sent[i].key, "done or already as asked");
      }
      return;
    }
    std::string why =
        lists ? "not in the service's reply"
              : "the service counted " + count_text(d) + " " + shape.done +
                    (shape.already.empty() ? std::string()
                                           : " and " + count_text(a) + " " + shape.already) +
                    " for " + std::to_string(n) + " " + bucket + " sent";
    for (auto i : rest) out.unresolved(m_sent[i].key, Reason::unknown, why);
  }

  // A count member: a number; absent counts as 0 (services omit zero buckets); anything
  // else is no count.
  static std::optional<std::int64_t> count_of(const Json* v) {
    if (v == nullptr) return 0;
    auto n = detail::to_int64(*v);
    if (!v->is_number() || !n || *n < 0) return std::nullopt;
    return n;
  }
  static std::string count_text(std::optional<std::int64_t> n) {
    return n ? std::to_string(*n) : std::string("no count");
  }

  std::vector<Sent> m_sent;
};

}  // namespace cwsdk

#endif  // CWSDK_SUPPORT_BATCH_HPP
