/* GET /api/v1/devices/unbound: the devices seen on the broker that no
 * device of the config binds (unbound_feed.h), from the core's snapshot.
 * Read like the state: binding one is a config edit and SIGHUP. */
#include "httpapi_internal.h"

void httpapi_serve_unbound(const struct httpapi *h, struct http_response *r)
{
    char *json = NULL;
    size_t len = 0;
    if (api_get_unbound(h->api, &json, &len, SNAPSHOT_WAIT_MS) < 0) {
        httpapi_reply_error(r, 503, "the gateway core is not answering");
        return;
    }
    http_response_take(r, 200, JSON_TYPE, json, len);
}
