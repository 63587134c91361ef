// cwsdk/support/all.hpp: the whole provider kit in one include.
//
// The kit is header-only C++17 on top of <cwsdk/provider.hpp> and nlohmann/json; link
// the CMake target cwsdk::support (which brings nlohmann_json). Nothing in it crosses the
// ABI: it is compiled into the plugin and hidden there by cwsdk_add_plugin().
//
//   result.hpp    Result<T>, Failure: the kit's one error convention
//   json.hpp      checked reading of untrusted JSON: parse_json, get<T>, get_optional<T>
//   time.hpp      RFC 3339, naive times, dates, epochs, .NET ticks, AniList fuzzy dates
//   ids.hpp       id normalisation, Plex GUIDs, ProviderIds; the Ids set
//   rating.hpp    exact conversion between cw's 0-10 and a service's scale
//   item.hpp      Item: the item document as a type
//   requests.hpp  checked readers for every request the host sends
//   replies.hpp   IndexWriter, Outcomes, HealthReply, LookupReply, ResolveReply, ScrobbleReply
//   batch.hpp     BatchMapper: batch write replies to exact per-key outcomes
//   encoding.hpp  URL encoding, Base64
//   http.hpp      http::Request, http::Response, http::Client, the status mapping
//   paging.hpp    Pager (page numbers, offsets, cursors) with honest completeness
//   oauth.hpp     DeviceFlow (device code, PIN), Token, OAuthSession (refresh on 401)
#ifndef CWSDK_SUPPORT_ALL_HPP
#define CWSDK_SUPPORT_ALL_HPP

#include <cwsdk/support/batch.hpp>
#include <cwsdk/support/encoding.hpp>
#include <cwsdk/support/http.hpp>
#include <cwsdk/support/ids.hpp>
#include <cwsdk/support/item.hpp>
#include <cwsdk/support/json.hpp>
#include <cwsdk/support/oauth.hpp>
#include <cwsdk/support/paging.hpp>
#include <cwsdk/support/rating.hpp>
#include <cwsdk/support/replies.hpp>
#include <cwsdk/support/requests.hpp>
#include <cwsdk/support/result.hpp>
#include <cwsdk/support/time.hpp>

#endif  // CWSDK_SUPPORT_ALL_HPP
