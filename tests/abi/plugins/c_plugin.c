/*
 * A provider written in plain C99 against cwsdk.h: an in-memory watchlist of at most 64
 * keys. Built once as the well-behaved C plugin (cw-provider-cplain.so) and, with one
 * BAD_* definition, as each of the broken plugins the loader must refuse. The variants
 * share everything else so that each test exercises exactly one defect. The FAULT_*
 * variants die or hang (for isolation: the host must survive them), and SERVICES makes
 * health() call every host service and report what it got.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cwsdk/cwsdk.h>

#if defined(FAULT_SEGV_INDEX) || defined(FAULT_SEGV_ENTRY)
/* A real segmentation fault: an unmapped address written through a volatile, so that no
 * compiler or sanitizer turns it into anything else. */
static void segfault(void) {
  volatile uintptr_t address = 16;
  *(volatile int*)address = 1;
}
#endif

#if defined(FAULT_SEGV_INDEX) || defined(FAULT_ABORT_INDEX) || defined(FAULT_HANG_INDEX)
static void fault(void) {
#if defined(FAULT_SEGV_INDEX)
  segfault();
#elif defined(FAULT_ABORT_INDEX)
  abort();
#else
  for (;;) pause();
#endif
}
#endif

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "cplain"
#endif

#if defined(BAD_UPDATE)
#define FEATURE_UPDATE "true"
#else
#define FEATURE_UPDATE "false"
#endif
#if defined(BAD_SCROBBLE)
#define CAP_SCROBBLE "true"
#else
#define CAP_SCROBBLE "false"
#endif
#if defined(BAD_AUTH)
#define CAP_AUTH "device_code"
#else
#define CAP_AUTH "none"
#endif
#if defined(BAD_ACTIONS)
#define ACTIONS ",\"actions\":[{\"name\":\"snapshot.list\"}]"
#else
#define ACTIONS ""
#endif
#if defined(BAD_SCHEMA)
#define SEMANTICS "both"
#else
#define SEMANTICS "present"
#endif
#if defined(BAD_NAME)
#define MANIFEST_NAME "othername"
#else
#define MANIFEST_NAME PLUGIN_NAME
#endif

static const char k_manifest[] =
    "{\"name\":\"" MANIFEST_NAME
    "\",\"version\":\"0.1.0\","
    "\"display_name\":\"C test plugin\","
    "\"features\":{\"watchlist\":{\"types\":[\"movie\"],\"index_semantics\":\"" SEMANTICS
    "\","
    "\"add\":true,\"remove\":true,\"update\":" FEATURE_UPDATE
    "}},"
    "\"capabilities\":{\"auth\":\"" CAP_AUTH "\",\"scrobble\":" CAP_SCROBBLE "}" ACTIONS
    ","
    "\"config\":{\"type\":\"object\"}}";

struct cw_instance {
  const cw_host_api* host;
  int count;
  char keys[64][64];
};

static void put(cw_sink sink, const char* s) { sink.write(sink.ctx, s, strlen(s)); }

static const char* c_manifest(size_t* len) {
#if defined(BAD_NULL_MANIFEST)
  *len = sizeof k_manifest - 1;
  return NULL;
#elif defined(BAD_JSON)
  static const char k_bad[] = "{\"name\": \"" PLUGIN_NAME "\", ";
  (void)k_manifest;
  *len = sizeof k_bad - 1;
  return k_bad;
#else
  *len = sizeof k_manifest - 1;
  return k_manifest;
#endif
}

static cw_instance* c_create(const cw_host_api* host, const char* config, size_t len, cw_sink err) {
#if defined(BAD_CREATE)
  (void)host;
  (void)config;
  (void)len;
  put(err, "url: expected http(s)://host:port");
  return NULL;
#else
  if (len == 0 || config[0] != '{') {
    put(err, "configuration is not a JSON object");
    return NULL;
  }
  cw_instance* self = (cw_instance*)calloc(1, sizeof *self);
  if (self == NULL) {
    put(err, "out of memory");
    return NULL;
  }
  self->host = host;
  host->log(host->host_ctx, CW_LOG_DEBUG, "created", 7);
  return self;
#endif
}

static void c_destroy(cw_instance* self) { free(self); }

/* Requests are JSON objects; this plugin only needs to tell them from garbage. */
static int is_object(const char* req, size_t len) {
  size_t i = 0;
  while (i < len && (req[i] == ' ' || req[i] == '\n')) ++i;
  return i < len && req[i] == '{' && req[len - 1] == '}';
}

#if defined(SERVICES)
struct buf {
  char data[128];
  size_t len;
};
static void buf_write(void* ctx, const char* data, size_t len) {
  struct buf* b = (struct buf*)ctx;
  if (len > sizeof b->data - 1 - b->len) len = sizeof b->data - 1 - b->len;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}
/* The number after "status": in the HTTP meta document. */
static int meta_status(const char* meta) {
  const char* p = strstr(meta, "\"status\":");
  return p == NULL ? -1 : atoi(p + 9);
}
#endif

#if !defined(BAD_NULL_HEALTH)
static cw_status c_health(cw_instance* self, const char* req, size_t len, cw_sink out) {
  (void)req;
  (void)len;
#if defined(SERVICES)
  {
    static const char k_req[] =
        "{\"method\":\"GET\",\"url\":\"http://svc.test/items\",\"read\":true,"
        "\"endpoint\":\"/items\"}";
    const cw_host_api* h = self->host;
    void* ctx = h->host_ctx;
    struct buf kv = {{0}, 0}, secret = {{0}, 0}, meta = {{0}, 0}, body = {{0}, 0};
    char text[1024];
    const long long now = (long long)h->now(ctx);
    const int cancelled = h->is_cancelled(ctx);
    const int kv_put = h->kv_put(ctx, "wm", 2, "w-7", 3);
    const int kv_get = h->kv_get(ctx, "wm", 2, (cw_sink){&kv, buf_write});
    const int get_secret = h->get_secret(ctx, "token", 5, (cw_sink){&secret, buf_write});
    const int put_secret = h->put_secret(ctx, "refresh", 7, "r-1", 3);
    const int http = h->http(ctx, k_req, sizeof k_req - 1, (cw_sink){&meta, buf_write},
                             (cw_sink){&body, buf_write});
    h->log(ctx, CW_LOG_INFO, "services probed", 15);
    snprintf(text, sizeof text,
             "{\"status\":\"ok\",\"message\":\"now=%lld cancelled=%d kv_put=%d kv_get=%d:%s "
             "get_secret=%d:%s put_secret=%d http=%d:%d:%s\",\"features\":{\"watchlist\":true}}",
             now, cancelled, kv_put, kv_get, kv.data, get_secret, secret.data, put_secret, http,
             meta_status(meta.data), body.data);
    put(out, text);
    return CW_STATUS_OK;
  }
#endif
  (void)self;
  put(out, "{\"status\":\"ok\",\"message\":\"\",\"features\":{\"watchlist\":true}}");
  return CW_STATUS_OK;
}
#endif

static cw_status c_build_index(cw_instance* self, const char* req, size_t len, cw_sink out) {
  char buf[160];
  int i;
#if defined(FAULT_SEGV_INDEX) || defined(FAULT_ABORT_INDEX) || defined(FAULT_HANG_INDEX)
  fault();
#endif
  if (!is_object(req, len)) {
    put(out, "{\"message\":\"request is not a JSON object\"}");
    return CW_STATUS_INVALID_ARG;
  }
  put(out, "{\"items\":[");
  for (i = 0; i < self->count; ++i) {
    snprintf(buf, sizeof buf, "%s{\"type\":\"movie\",\"ids\":{\"imdb\":\"%s\"}}", i ? "," : "",
             self->keys[i]);
    put(out, buf);
  }
  snprintf(buf, sizeof buf,
           "],\"complete\":true,\"expected_total\":%d,\"received\":%d,\"watermark\":null,"
           "\"semantics\":\"present\"}",
           self->count, self->count);
  put(out, buf);
  return CW_STATUS_OK;
}

/* Finds every "imdb":"tt..." in the request: enough for the tests' items. */
static cw_status c_write(cw_instance* self, const char* req, size_t len, cw_sink out, int add) {
  char buf[200];
  char key[64];
  const char* p = req;
  const char* end = req + len;
  int first = 1;
  if (!is_object(req, len)) {
    put(out, "{\"message\":\"request is not a JSON object\"}");
    return CW_STATUS_INVALID_ARG;
  }
  put(out, "{\"outcomes\":[");
  while (p < end) {
    const char* hit = strstr(p, "\"imdb\":\"");
    const char* stop;
    size_t n;
    int i, found = -1;
    if (hit == NULL || hit >= end) break;
    hit += 8;
    stop = strchr(hit, '"');
    if (stop == NULL || stop >= end) break;
    n = (size_t)(stop - hit);
    if (n >= sizeof key) n = sizeof key - 1;
    memcpy(key, hit, n);
    key[n] = '\0';
    for (i = 0; i < self->count; ++i)
      if (strcmp(self->keys[i], key) == 0) found = i;
    if (add && found < 0 && self->count < 64) strcpy(self->keys[self->count++], key);
    if (!add && found >= 0 && found != --self->count)  // the last one moves into its place
      strcpy(self->keys[found], self->keys[self->count]);
    snprintf(buf, sizeof buf, "%s{\"key\":\"%s\",\"status\":\"%s\"}", first ? "" : ",", key,
             (add ? found < 0 : found >= 0) ? "confirmed" : "skipped");
    put(out, buf);
    first = 0;
    p = stop + 1;
  }
  put(out, "]}");
  return CW_STATUS_OK;
}

static cw_status c_add(cw_instance* self, const char* req, size_t len, cw_sink out) {
  return c_write(self, req, len, out, 1);
}
static cw_status c_remove(cw_instance* self, const char* req, size_t len, cw_sink out) {
  return c_write(self, req, len, out, 0);
}

static const cw_provider_api k_api = {
#if defined(BAD_SMALL_TABLE)
    16,
#else
    sizeof(cw_provider_api),
#endif
#if defined(BAD_MAJOR)
    2,
#else
    CWSDK_VERSION_MAJOR,
#endif
#if defined(BAD_MINOR)
    CWSDK_VERSION_MINOR + 9,
#else
    CWSDK_VERSION_MINOR,
#endif
    c_manifest,
    c_create,
    c_destroy,
#if defined(BAD_NULL_HEALTH)
    NULL,
#else
    c_health,
#endif
    c_build_index,
    c_add,
    c_remove,
    NULL, /* update */
    NULL, /* scrobble */
    NULL, /* auth_start */
    NULL, /* auth_poll */
    NULL, /* action */
    NULL, /* lookup (1.1) */
    NULL, /* resolve_ids (1.1) */
};

#if defined(BAD_NO_ENTRY)
/* Exports the table under the wrong name: the loader must not find cwsdk_entry. */
CWSDK_EXPORT const cw_provider_api* cwsdk_entry_misspelled(void) { return &k_api; }
#else
CWSDK_EXPORT const cw_provider_api* cwsdk_entry(uint16_t host_major, uint16_t host_minor,
                                                const cw_host_api* host, cw_sink err) {
  (void)host_minor;
#if defined(BAD_ENTRY_NULL)
  (void)host_major;
  (void)host;
  (void)k_api.struct_size;
  put(err, "licence file /etc/cw/licence missing");
  return NULL;
#else
#if defined(FAULT_SEGV_ENTRY)
  segfault();
#endif
  if (host == NULL || host_major != CWSDK_VERSION_MAJOR) {
    put(err, "unsupported host ABI");
    return NULL;
  }
  host->log(host->host_ctx, CW_LOG_DEBUG, "entry", 5);
  return &k_api;
#endif
}
#endif
