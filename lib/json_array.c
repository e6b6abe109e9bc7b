/* json_array_elements() (json.h): a JSON array, each element
 * written back as compact JSON text of its own, read with jansson. */
#include "json.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int json_array_elements(const char *text, size_t len, const char *member, size_t max_bytes,
                        size_t max_items, struct json_elements *out)
{
    memset(out, 0, sizeof(*out));
    if (len > max_bytes)
        return -EMSGSIZE;
    if (!text || !utf8_valid(text, len))
        return -EBADMSG;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &err);
    if (!root)
        return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
    int rc = -EPROTO;
    json_t *arr = member ? json_object_get(root, member) : root;
    if (!json_is_array(arr))
        goto out_decref;
    size_t total = json_array_size(arr), keep = total < max_items ? total : max_items;
    struct json_elements e = {.total = total};
    rc = -ENOMEM;
    if (keep && !(e.text = calloc(keep, sizeof(*e.text))))
        goto out_decref;
    if (keep && !(e.len = calloc(keep, sizeof(*e.len)))) {
        free(e.text);
        goto out_decref;
    }
    for (; e.n < keep; e.n++) {
        e.text[e.n] = json_dumps(json_array_get(arr, e.n), JSON_COMPACT | JSON_ENCODE_ANY);
        if (!e.text[e.n]) {
            json_elements_free(&e);
            goto out_decref;
        }
        e.len[e.n] = strlen(e.text[e.n]);
    }
    *out = e;
    rc = 0;
out_decref:
    json_decref(root);
    return rc;
}

void json_elements_free(struct json_elements *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->text[i]);
    free(e->text);
    free(e->len);
    memset(e, 0, sizeof(*e));
}
