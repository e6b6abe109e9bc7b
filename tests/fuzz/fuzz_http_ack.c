/* fuzz_http_ack: the pure parts of POST /api/v1/alerts/<id>/ack, through the
 * helpers the server itself calls (httpapi_ack_path(),
 * httpapi_ack_body(); gateway/httpapi.h). Input: url\0body, the URL as
 * libmicrohttpd hands it over (already URL-decoded, so any bytes).
 *
 * Oracle for the path: it is accepted exactly when an independent reading
 * says so ("/api/v1/alerts/" + an id of 1..size-1 bytes without '/' +
 * "/ack"), with that id, for the server's id size and for a small one.
 * Oracle for the body (max_body as the default http.max_body_bytes, and a
 * small one): 0 only for a JSON object whose top-level "by" is absent or a
 * string of 1-64 bytes, "note" absent or a string under 256 bytes, "resolve" absent or
 * a bool, checked with jansson directly, and req holds exactly those values;
 * on a refusal nothing of req changes, and on success only by, note and
 * resolve do. */
#include "fuzz.h"

#include <errno.h>
#include <jansson.h>

#include "api.h"
#include "httpapi.h"
#include "utf8.h"

static void check_path(const char *url, size_t size)
{
    static const char pre[] = "/api/v1/alerts/";
    char id[sizeof(((struct api_request *)0)->id)];
    const size_t pre_len = sizeof(pre) - 1, url_len = strlen(url);

    memset(id, 0x5a, sizeof(id));
    bool got = httpapi_ack_path(url, id, size);
    bool want = url_len >= pre_len + 1 + 4 && memcmp(url, pre, pre_len) == 0 &&
                memcmp(url + url_len - 4, "/ack", 4) == 0;
    size_t id_len = want ? url_len - pre_len - 4 : 0;
    want = want && id_len < size && !memchr(url + pre_len, '/', id_len);
    FUZZ_CHECK(got == want, "path \"%s\" (size %zu): %s, expected %s", url, size,
               got ? "accepted" : "refused", want ? "accepted" : "refused");
    if (got) {
        FUZZ_CHECK(strlen(id) == id_len && memcmp(id, url + pre_len, id_len) == 0,
                   "path \"%s\": id \"%s\"", url, id);
        FUZZ_CHECK(id_len >= 1, "empty id from \"%s\"", url);
    }
}

/* What the server must accept, read with jansson itself. */
static bool body_acceptable(const char *body, size_t len, size_t max_body, const char **by,
                            const char **note, bool *resolve, json_t **root)
{
    json_error_t err;
    *root = NULL;
    if (len > max_body)
        return false;
    *root = json_loadb(body, len,
                       JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &err);
    if (!*root || !json_is_object(*root))
        return false;
    json_t *b = json_object_get(*root, "by"), *n = json_object_get(*root, "note"),
           *r = json_object_get(*root, "resolve");
    if (b && (!json_is_string(b) || json_string_length(b) < 1 || json_string_length(b) > 64))
        return false;
    if (n && (!json_is_string(n) || json_string_length(n) >= 256))
        return false;
    if (r && !json_is_boolean(r))
        return false;
    *by = b ? json_string_value(b) : "";
    *note = n ? json_string_value(n) : "";
    *resolve = r && json_is_true(r);
    return true;
}

static void check_body(const char *body, size_t len, size_t max_body)
{
    static struct api_request req, before;
    memset(&req, 0x5a, sizeof(req));
    before = req;

    int rc = httpapi_ack_body(body, len, max_body, &req);
    FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EINVAL, "result %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(memcmp(&req, &before, sizeof(req)) == 0, "a refused body (%d) changed req", rc);
        return;
    }
    FUZZ_CHECK(strlen(req.by) <= 64, "by of %zu bytes", strlen(req.by));
    FUZZ_CHECK(memchr(req.note, '\0', sizeof(req.note)), "note not terminated");
    FUZZ_CHECK(utf8_plain_text(req.by, strlen(req.by)) &&
                   utf8_plain_text(req.note, strlen(req.note)),
               "accepted by or note with a control character");
    FUZZ_CHECK(req.kind == before.kind && memcmp(req.hall, before.hall, sizeof(req.hall)) == 0 &&
                   memcmp(req.id, before.id, sizeof(req.id)) == 0 &&
                   memcmp(req.state, before.state, sizeof(req.state)) == 0,
               "httpapi_ack_body touched more than by, note and resolve");

    const char *by = NULL, *note = NULL;
    bool resolve = false;
    json_t *root;
    bool ok = body_acceptable(body, len, max_body, &by, &note, &resolve, &root);
    FUZZ_CHECK(ok, "accepted a body jansson does not read as a valid ack: %.*s", (int)len, body);
    FUZZ_CHECK(strcmp(req.by, by) == 0, "by \"%s\", jansson says \"%s\"", req.by, by);
    FUZZ_CHECK(strcmp(req.note, note) == 0, "note \"%s\", jansson says \"%s\"", req.note, note);
    FUZZ_CHECK(req.resolve == resolve, "resolve");
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *u, *b;
    size_t ulen, blen;

    fuzz_split(data, size, &u, &ulen, &b, &blen);
    char *url = fuzz_dup(u, ulen); /* a C string, as libmicrohttpd gives it */
    char *body = fuzz_copy(b, blen);

    check_path(url, sizeof(((struct api_request *)0)->id));
    check_path(url, 8);
    check_body(body, blen, 16384);
    check_body(body, blen, 64);
    free(body);
    free(url);
    return 0;
}
