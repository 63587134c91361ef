#pragma once
// The engine's IdKind and the SDK kit's cwsdk::IdKind are one list in one order (the
// canonical-key priority of R1.3): id normalisation, GUID parsing and kind names live once,
// in <cwsdk/support/ids.hpp>, and the engine converts between the two enums here.

#include <cwsdk/support/ids.hpp>

#include <cw/engine/item.hpp>

namespace cw::engine::detail {

static_assert(k_id_kind_count == cwsdk::k_id_kind_count, "engine and kit id kinds differ");
static_assert(static_cast<int>(IdKind::tmdb) == static_cast<int>(cwsdk::IdKind::tmdb) &&
                  static_cast<int>(IdKind::slug) == static_cast<int>(cwsdk::IdKind::slug) &&
                  static_cast<int>(IdKind::jellyfin) == static_cast<int>(cwsdk::IdKind::jellyfin) &&
                  static_cast<int>(IdKind::emby) == static_cast<int>(cwsdk::IdKind::emby) &&
                  static_cast<int>(IdKind::mdblist) == static_cast<int>(cwsdk::IdKind::mdblist) &&
                  static_cast<int>(IdKind::simkl) == static_cast<int>(cwsdk::IdKind::simkl) &&
                  static_cast<int>(IdKind::guid) == static_cast<int>(cwsdk::IdKind::guid),
              "engine and kit id kinds must be in the same order");

inline cwsdk::IdKind to_kit(IdKind k) { return static_cast<cwsdk::IdKind>(k); }
inline IdKind from_kit(cwsdk::IdKind k) { return static_cast<IdKind>(k); }

}  // namespace cw::engine::detail
