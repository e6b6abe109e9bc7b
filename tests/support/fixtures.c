#include "fixtures.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *path)
{
    fprintf(stderr, "fixtures: %s: %s\n", what, path);
    abort();
}

char *fixtures_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            if (!buf)
                die("out of memory", path);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static char *hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    if (strlen(hex) % 2 != 0)
        die("bad payload_hex (odd length)", hex);
    char *out = malloc(n + 1);
    if (!out)
        die("out of memory", hex);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            die("bad payload_hex", hex);
        out[i] = (char)v;
    }
    out[n] = '\0';
    *len = n;
    return out;
}

static char *dup_member(json_t *obj, const char *key, const char *path)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (!v)
        die("fixture line without a string member", key);
    char *d = strdup(v);
    if (!d)
        die("out of memory", path);
    return d;
}

static void load_file(const char *dir, const char *name, struct fixture_set *out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    size_t len;
    char *text = fixtures_read_file(path, &len);
    int lineno = 0;
    /* Split by hand: strtok_r would skip blank lines and shift the numbers. */
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        char *end = nl ? nl : text + len;
        char *next = nl ? nl + 1 : text + len;
        lineno++;
        if (end > line && end[-1] == '\r')
            end--;
        *end = '\0';
        if (line[strspn(line, " \t")] == '\0') {
            line = next;
            continue;
        }
        json_error_t err;
        /* JSON_ALLOW_NUL: a payload or topic may hold NUL bytes on purpose. */
        json_t *obj = json_loads(line, JSON_ALLOW_NUL, &err);
        if (!obj) {
            fprintf(stderr, "fixtures: %s:%d: %s\n", path, lineno, err.text);
            abort();
        }
        struct fixture fx = {0};
        fx.file = strdup(name);
        fx.line = lineno;
        fx.format = dup_member(obj, "format", path);
        json_t *t = json_object_get(obj, "topic");
        if (!json_is_string(t))
            die("fixture line without a string topic", path);
        fx.topic_len = json_string_length(t);
        fx.topic = malloc(fx.topic_len + 1);
        if (!fx.topic)
            die("out of memory", path);
        memcpy(fx.topic, json_string_value(t), fx.topic_len);
        fx.topic[fx.topic_len] = '\0';
        json_t *p = json_object_get(obj, "payload");
        if (p) {
            if (!json_is_string(p))
                die("payload is not a string", path);
            fx.payload_len = json_string_length(p);
            fx.payload = malloc(fx.payload_len + 1);
            if (!fx.payload)
                die("out of memory", path);
            memcpy(fx.payload, json_string_value(p), fx.payload_len);
            fx.payload[fx.payload_len] = '\0';
        } else {
            const char *hex = json_string_value(json_object_get(obj, "payload_hex"));
            if (!hex)
                die("fixture line without payload or payload_hex", path);
            fx.payload = hex_decode(hex, &fx.payload_len);
        }
        json_t *expect = json_object_get(obj, "expect");
        if (!json_is_object(expect))
            die("fixture line without an expect object", path);
        fx.expect = json_incref(expect);
        json_decref(obj);
        struct fixture *v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
        if (!v)
            die("out of memory", path);
        out->v = v;
        out->v[out->n++] = fx;
        line = next;
    }
    free(text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void fixtures_load(const char *name, struct fixture_set *out)
{
    const char *dir = HALLGW_FIXTURES_DIR;
    out->v = NULL;
    out->n = 0;
    if (name) {
        load_file(dir, name, out);
        return;
    }
    DIR *d = opendir(dir);
    if (!d)
        die("cannot open directory", dir);
    char *names[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 6 && strcmp(e->d_name + l - 6, ".jsonl") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        load_file(dir, names[i], out);
        free(names[i]);
    }
}

void fixtures_free(struct fixture_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].file);
        free(s->v[i].format);
        free(s->v[i].topic);
        free(s->v[i].payload);
        json_decref(s->v[i].expect);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}
