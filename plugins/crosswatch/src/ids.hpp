#pragma once
// Item identity for the local tracker: id normalisation and the aliases under which an
// item is found in a feature file. The host does the canonical keying; this only has to
// decide "is this the item I already hold", simply and without false matches.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw::crosswatch {

// The normalised form of one id value, or "" when the value carries no identity
// ("", "0", "none", "unknown", ...). Numeric id kinds keep their digits only
// ("tvdb-42" -> "42"); imdb becomes "tt" + digits.
std::string normalise_id(std::string_view kind, const nlohmann::json& value);

// Every alias of an item. Movies and shows: "<type>|<kind>:<id>" per id; seasons and
// episodes: the show's ids plus the numbers ("episode|tvdb:81189|1|2"), or their own ids
// when the show has none; with no id at all, the lower-cased title and year. Two items of
// one feature are the same item when they share an alias.
std::vector<std::string> identity_aliases(const nlohmann::json& item);

// Adds to `stored.ids` every normalised id of `incoming.ids` that `stored` lacks. Returns
// true when something was added.
bool merge_ids(nlohmann::json& stored, const nlohmann::json& incoming);

}  // namespace cw::crosswatch
