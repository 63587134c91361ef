/*
 * cwsdk.h: the cw provider plugin ABI, version 1.1.
 *
 * This header is the whole contract between the cw host and a provider plugin. Only plain
 * C99 crosses it, so a plugin may be built with another compiler, another C++ standard
 * library, or other versions of any library the host uses. It compiles as C and as C++.
 *
 * The shape, in one paragraph: the host dlopen()s `cw-provider-<name>.so` and calls its one
 * exported function, `cwsdk_entry`, which returns a table of operations
 * (`cw_provider_api`). The host calls `create` once per configured provider instance,
 * giving it a table of host services (`cw_host_api`) bound to that instance. Every
 * operation takes request JSON and writes response JSON into a `cw_sink`, and returns a
 * `cw_status`. The JSON documents are described in sdk/ABI.md and sdk/schema/.
 *
 * Conventions used in the field documentation below:
 *   Required   the host (or plugin) must provide it; NULL is a contract violation that the
 *              other side reports and refuses.
 *   Optional   may be NULL; the consequence of NULL is stated.
 *   Ownership  who owns memory passed through the field. The rule everywhere: inputs are
 *              borrowed for the duration of the call; outputs go through a cw_sink and the
 *              receiver copies them; neither side ever frees memory the other allocated.
 *   Threads    which threads may call it and whether calls may overlap.
 *   Errors     how failure is reported.
 *
 * Strings are UTF-8 with an explicit length and are not required to be NUL-terminated,
 * except where a field says "NUL-terminated".
 *
 * Versioning (details in sdk/ABI.md): the host loads a plugin when the majors are equal
 * and the host's minor is >= the plugin's minor. Structs only grow: new fields are
 * appended, and every struct starts with `struct_size` so the reader can tell which fields
 * the writer knew about.
 */
#ifndef CWSDK_CWSDK_H
#define CWSDK_CWSDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------
 * Version of this header.
 * ------------------------------------------------------------------------------------- */

#define CWSDK_VERSION_MAJOR 1
#define CWSDK_VERSION_MINOR 1

/* Name of the one symbol a plugin exports. */
#define CWSDK_ENTRY_SYMBOL "cwsdk_entry"

#if defined(_WIN32)
#define CWSDK_EXPORT __declspec(dllexport)
#else
#define CWSDK_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------
 * cw_status: the result of every operation.
 *
 * An int32_t rather than an enum so that its size is fixed across compilers. The list only
 * grows; a host that receives a value it does not know treats it as CW_STATUS_INTERNAL.
 * ------------------------------------------------------------------------------------- */

typedef int32_t cw_status;

#define CW_STATUS_OK 0           /* success; the sink holds the response document        */
#define CW_STATUS_INVALID_ARG 1  /* the request or configuration is wrong; do not retry  */
#define CW_STATUS_UNSUPPORTED 2  /* the operation or feature is not supported            */
#define CW_STATUS_AUTH 3         /* credentials missing, wrong or expired                */
#define CW_STATUS_NOT_FOUND 4    /* the thing asked for does not exist                   */
#define CW_STATUS_RATE_LIMITED 5 /* the service or the host's budget said "not now"      */
#define CW_STATUS_TRANSIENT 6    /* temporary failure (5xx, timeout); retrying may work  */
#define CW_STATUS_INTERNAL 7     /* a bug or an unexpected response; do not retry        */
#define CW_STATUS_CANCELLED 8    /* the host asked to stop (is_cancelled) and we did     */

/* ---------------------------------------------------------------------------------------
 * cw_sink: where a callee writes a result for the caller.
 *
 * The callee calls `write` zero or more times; the receiver concatenates the chunks. This
 * lets a plugin stream a 100k-item index without building it in one buffer, and lets the
 * host stream a large HTTP body to the plugin.
 *
 *   write     Required. Appends `len` bytes at `data` to the receiver's buffer.
 *             Ownership: `data` is borrowed for the call; the receiver copies it.
 *             Threads: only on the thread of the call that received the sink, and only
 *             until that call returns. A sink must not be kept.
 *             Errors: none; a receiver that runs out of memory aborts the process.
 *   ctx       Required. Opaque receiver state, passed back to `write`.
 *
 * On a non-OK status the sink holds an error document instead of the response:
 * a JSON object {"message": "...", "retry_after_ms": N} (retry_after_ms optional), or plain
 * UTF-8 text, which the host takes as the message.
 * ------------------------------------------------------------------------------------- */

typedef struct cw_sink {
  void* ctx;
  void (*write)(void* ctx, const char* data, size_t len);
} cw_sink;

/* ---------------------------------------------------------------------------------------
 * Log levels for cw_host_api.log.
 * ------------------------------------------------------------------------------------- */

#define CW_LOG_TRACE 0
#define CW_LOG_DEBUG 1
#define CW_LOG_INFO 2
#define CW_LOG_WARN 3
#define CW_LOG_ERROR 4

/* ---------------------------------------------------------------------------------------
 * cw_host_api: the services the host offers a plugin.
 *
 * Two tables of this type exist: the one passed to cwsdk_entry() (library-wide: `log`,
 * `now` and `is_cancelled` work; the instance services return CW_STATUS_UNSUPPORTED), and
 * the one passed to create(), bound to that provider instance (every service works; kv and
 * secrets are that instance's). Ownership: the host owns both tables; the library-wide one
 * stays valid until the library is unloaded, an instance's until destroy() returns.
 * Threads: every service may be called from any thread, concurrently.
 * ------------------------------------------------------------------------------------- */

typedef struct cw_host_api {
  /* Required. sizeof(cw_host_api) as the host was compiled; a plugin built against an
   * older header must not read fields beyond it (see CWSDK_HAS_FIELD). */
  uint32_t struct_size;
  /* Required. The host's ABI version (CWSDK_VERSION_MAJOR/MINOR as the host was built). */
  uint16_t abi_major;
  uint16_t abi_minor;
  /* Required. Opaque host state; pass it back as the first argument of every service. */
  void* host_ctx;

  /* log: Required. Writes one log line at `level` (CW_LOG_*), attributed to the plugin
   * (and instance). `msg` is borrowed. The host redacts known secrets, but a plugin must
   * not log credentials in the first place. Errors: none. */
  void (*log)(void* host_ctx, int32_t level, const char* msg, size_t msg_len);

  /* http: Required. Performs one HTTP request through the host's client, which applies
   * rate budgets, retries with backoff (honouring Retry-After), timeouts, proxies, CA
   * settings, accounting and secret redaction. Plugins never open sockets themselves.
   *   request_json  borrowed; {"method","url","query":{},"headers":{},"body","timeout_ms",
   *                 "read": bool, "retry_safe": bool, "endpoint": "/template/:id"}; see
   *                 sdk/ABI.md "HTTP".
   *   meta          receives {"status":int,"headers":{},"timing":{...},"attempts":int}.
   *   body          receives the response body, raw (not JSON-escaped), possibly in chunks.
   * Returns CW_STATUS_OK whenever an HTTP response was received, whatever its status code
   * (the plugin interprets 4xx/5xx after the host's retries are spent). Errors:
   * CW_STATUS_INVALID_ARG (malformed request), CW_STATUS_RATE_LIMITED (this run's budget
   * is spent), CW_STATUS_TRANSIENT (connection failure or timeout after retries),
   * CW_STATUS_CANCELLED, CW_STATUS_UNSUPPORTED (a write during a dry run; see ABI.md);
   * the error document goes to `meta`. */
  cw_status (*http)(void* host_ctx, const char* request_json, size_t request_len, cw_sink meta,
                    cw_sink body);

  /* now: Required. Current UTC time in milliseconds since the Unix epoch. Plugins use it
   * instead of the system clock so that tests can control time. */
  int64_t (*now)(void* host_ctx);

  /* is_cancelled: Required. Non-zero once the user asked the run to stop (SIGINT/SIGTERM).
   * Long operations poll it between pages and return CW_STATUS_CANCELLED. */
  int32_t (*is_cancelled)(void* host_ctx);

  /* kv_get: Required. Reads the value stored under `key` for this instance (watermarks,
   * ETags, id caches). The value goes to `value`. Errors: CW_STATUS_NOT_FOUND when absent.
   * Values survive runs; a dry run reads them but never writes them. */
  cw_status (*kv_get)(void* host_ctx, const char* key, size_t key_len, cw_sink value);

  /* kv_put: Required. Stores `value` under `key` for this instance, durably, when the
   * current pair-and-feature commit happens (so a failed run does not advance a
   * watermark). A zero-length value deletes the key. In a dry run it succeeds and stores
   * nothing. */
  cw_status (*kv_put)(void* host_ctx, const char* key, size_t key_len, const char* value,
                      size_t value_len);

  /* get_secret: Required. Resolves the secret named `name` for this instance: a
   * configuration key whose value was written as ${env:..} or ${file:..} (create() sees
   * such values as the string "${secret}"), or a token previously stored with put_secret.
   * The value goes to `value`. Never log it. Errors: CW_STATUS_NOT_FOUND. */
  cw_status (*get_secret)(void* host_ctx, const char* name, size_t name_len, cw_sink value);

  /* put_secret: Required. Stores a credential (OAuth token JSON, PIN-flow token) for this
   * instance in the host's token store (0600 files or the state database; never logged).
   * A zero-length value deletes it. */
  cw_status (*put_secret)(void* host_ctx, const char* name, size_t name_len, const char* value,
                          size_t value_len);
} cw_host_api;

/* ---------------------------------------------------------------------------------------
 * cw_instance: one configured provider instance. Opaque to the host; the plugin defines it.
 * ------------------------------------------------------------------------------------- */

typedef struct cw_instance cw_instance;

/* The signature every request/response operation shares.
 *   self          the instance from create().
 *   request_json  borrowed for the call; the request document of that operation.
 *   out           the response document on CW_STATUS_OK, the error document otherwise.
 * Threads: the host never calls two operations on the same instance at once; different
 * instances may be called concurrently from different threads. */
typedef cw_status (*cw_operation_fn)(cw_instance* self, const char* request_json,
                                     size_t request_len, cw_sink out);

/* ---------------------------------------------------------------------------------------
 * cw_provider_api: what a plugin offers the host.
 *
 * Ownership: the plugin owns the table; it must stay valid, unchanged, until the library
 * is unloaded (a static const object is the usual choice).
 * ------------------------------------------------------------------------------------- */

typedef struct cw_provider_api {
  /* Required. sizeof(cw_provider_api) as the plugin was compiled. The host reads no field
   * beyond it and treats such fields as NULL. */
  uint32_t struct_size;
  /* Required. The ABI version the plugin was built against. */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* manifest: Required. Returns the plugin's static manifest (JSON, see
   * sdk/schema/manifest.schema.json) and its length in *len. Ownership: plugin-owned,
   * valid until unload. Must be the same on every call. Errors: none; a manifest that does
   * not validate, or that declares an operation the table lacks, gets the plugin refused. */
  const char* (*manifest)(size_t* len);

  /* create: Required. Makes an instance from its configuration.
   *   host         the instance's host services; valid until destroy(self) returns.
   *   config_json  the instance's configuration as a JSON object, borrowed; secret values
   *                appear as "${secret}" (fetch them with host->get_secret).
   *   err          on failure, a one-line reason ("url: expected http(s)://...").
   * Returns the instance, or NULL on failure. Must not perform network I/O (health does). */
  cw_instance* (*create)(const cw_host_api* host, const char* config_json, size_t config_len,
                         cw_sink err);

  /* destroy: Required. Frees the instance. Never fails; may be called on an instance whose
   * last operation failed. After it returns, the host will not use `self` again. */
  void (*destroy)(cw_instance* self);

  /* health: Required. Request {} (reserved). Response {"status":"ok|degraded|down|
   * auth_failed","message":"...","features":{"watchlist":true,...},"retry_after_ms":N}.
   * Since 1.1 it may add "capabilities": per feature, what is known only at run time and
   * overrides the manifest for this run: {"ratings":{"rating_scale":{"min":1,"max":100,
   * "step":1}},"watchlist":{"max_items":100}} (a user's score format, an account's list
   * limit). May do network I/O. Errors are statuses as above; a status other than OK is
   * read as "down" with the error message. */
  cw_operation_fn health;

  /* build_index: Required. Request {"feature":"watchlist","watermark":"..."|null}.
   * Response {"items":[item...],"complete":bool,"expected_total":N|null,"received":N,
   * "watermark":"..."|null,"semantics":"present|delta"}; items per sdk/schema/
   * item.schema.json. Since 1.1 a delta reply may carry "removed":[item...]: items the
   * service itself reports as removed since the watermark (proof of a deletion; the host
   * still applies its guards). History items are one per play and each play may carry its
   * own "extra" (the service's play id), which the host sends back when it removes that
   * one play. */
  cw_operation_fn build_index;

  /* add, remove: Required. Request {"feature":"...","items":[item with "key"...]}.
   * Response {"outcomes":[{"key":"...","status":"confirmed|skipped|unresolved",
   * "reason":"not_found|rate_limited|rejected|quota|unknown","message":"..."}]}: one
   * outcome per key sent; a key without an outcome counts as "unknown" and is re-checked by the
   * host. "quota" (since 1.1): an account limit (a list is full, a daily allowance is spent); the
   * host holds the item and reports it, never counts it as a failure towards the blackbox.
   * A status other than OK means the whole request failed and nothing was confirmed. */
  cw_operation_fn add;
  cw_operation_fn remove;

  /* update: Optional (NULL: the manifest must not declare "update" for any feature).
   * Same documents as add; used for ratings and progress changes. */
  cw_operation_fn update;

  /* scrobble: Optional (NULL: the manifest must not declare the "scrobble" capability).
   * Called by the host (`cw serve`), never by a sync run, once per playback event after the
   * host has collapsed repeats; never concurrently with another operation on the instance.
   * Request {"event":"start|pause|stop","item":{...},"progress":P,"session":"...",
   * "at":"RFC 3339"}: `progress` is a number in percent, 0 to 100 (fractions allowed) of the
   * item's duration; `session` is an opaque string that is equal for every event of one
   * playback; `at` is when the event happened. The host decides what a "watched" stop is
   * (its threshold); the plugin forwards the event as the service understands it.
   * Response {"status":"confirmed|skipped|unresolved","reason":"...","message":"...",
   * "recorded":"play|progress|none"}: `recorded` says what the service stored (a play, a
   * progress point, nothing). See sdk/ABI.md "scrobble". */
  cw_operation_fn scrobble;

  /* auth_start, auth_poll: Optional, together (both NULL or both set; set exactly when the
   * manifest declares "auth"). auth_start request {"fields":{...}} (answers to the
   * manifest's prompts); response {"kind":"device_code|pin|password|none","user_code",
   * "verification_url","interval_ms","expires_in_ms","message"}. auth_poll request {};
   * response {"state":"pending|done|denied|expired","message":"..."}. On "done" the plugin
   * has stored its tokens with host->put_secret. */
  cw_operation_fn auth_start;
  cw_operation_fn auth_poll;

  /* action: Optional (NULL: the manifest must not list "actions"). Provider-specific
   * maintenance actions that the manifest lists under "actions" (for example the local
   * tracker's "snapshot.list" and "snapshot.restore"), run by `cw provider <instance>
   * <action>`. Request {"action":"...","args":{...}}; response: any JSON document, printed
   * to the user. */
  cw_operation_fn action;

  /* ----- Added in ABI 1.1. Read only when CWSDK_HAS_FIELD says the plugin's table has them;
   * a 1.0 plugin's table is shorter and the host treats these as NULL. ----- */

  /* lookup: Optional (NULL: the manifest must not declare capabilities.lookup). Answers,
   * for a few items, whether the service has them now, so that the host's re-check before
   * a resend (a write whose outcome was unknown, a crash mid-batch) costs a few requests
   * instead of a full build_index.
   * Request {"feature":"history","items":[item with "key"...]} (at most the feature's
   * chunk_size items). For history, an item is one play: it matches when the service has
   * a play of that movie or episode within 60 s of its `watched_at`.
   * Response {"results":[{"key":"k1","present":true,"items":[item...]},
   * {"key":"k2","present":false}]}: `items` are the matching entries as build_index would
   * return them (optional). A key without a result is "unknown": the host falls back to
   * build_index for the feature before any resend. Errors: a non-OK status means nothing
   * is known; the host falls back to build_index. */
  cw_operation_fn lookup;

  /* resolve_ids: Optional (NULL: the manifest must not declare capabilities.resolve_ids).
   * A metadata service maps the ids it is given to the other ids it knows (tmdb's find by
   * imdb or tvdb id, and its external_ids). The host calls it before matching for items
   * that share no id with the other side, caches the answers in its state database with a
   * time to live, and never sends an item it already resolved within that time.
   * Request {"items":[{"key":"k1","type":"movie","ids":{...},"title":"...","year":N}...]}
   * (at most the resolver feature's chunk_size, default 100).
   * Response {"results":[{"key":"k1","ids":{"tmdb":"603","imdb":"tt0133093",...},
   * "ttl_s":N}]}: all ids the service knows for the item, the given ones included; `ttl_s`
   * (optional) overrides the host's default time to live for that answer. A key without a
   * result, or with empty `ids`, is "not known to the service" (cached as such). */
  cw_operation_fn resolve_ids;
} cw_provider_api;

/* True when a struct written by the other side (with `struct_size` as its first field)
 * is large enough to contain `field`. Use it before reading any field added after 1.0. */
#define CWSDK_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

/* ---------------------------------------------------------------------------------------
 * The one exported function.
 *
 *   host_major, host_minor  the host's ABI version. A plugin returns NULL (with a reason)
 *                           when host_major differs from CWSDK_VERSION_MAJOR or host_minor
 *                           is lower than CWSDK_VERSION_MINOR it was built with.
 *   host                    library-wide services (log, now, is_cancelled); valid until
 *                           unload.
 *   err                     on failure, a one-line reason.
 * Returns the plugin's operation table, or NULL on failure. Called once per load, on the
 * host's main thread. Must not throw (C++ plugins catch everything at this edge).
 * ------------------------------------------------------------------------------------- */

typedef const cw_provider_api* (*cwsdk_entry_fn)(uint16_t host_major, uint16_t host_minor,
                                                 const cw_host_api* host, cw_sink err);

CWSDK_EXPORT const cw_provider_api* cwsdk_entry(uint16_t host_major, uint16_t host_minor,
                                                const cw_host_api* host, cw_sink err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CWSDK_CWSDK_H */
