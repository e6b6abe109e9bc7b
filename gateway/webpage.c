#include "webpage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json; charset=utf-8"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static bool name_ok(const char *name)
{
    if (!*name || name[0] == '.')
        return false;
    for (const char *p = name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

static int open_embedded(const char *name, struct webpage_file *out)
{
    for (const struct embed_file *f = webpage_embedded; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            out->data = f->data;
            out->len = f->len;
            (void)snprintf(out->etag, sizeof(out->etag), "%s", f->etag);
            return 0;
        }
    }
    return -ENOENT;
}

static int open_in_dir(const char *dir, const char *name, struct webpage_file *out)
{
    char path[4096];
    struct stat st;
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return -ENOENT;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)WEBPAGE_FILE_MAX) {
        close(fd);
        return -ENOENT;
    }
    out->fd = fd;
    out->len = (size_t)st.st_size;
    (void)snprintf(out->etag, sizeof(out->etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
                   (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                       (unsigned long long)st.st_mtim.tv_nsec);
    return 0;
}

int webpage_open(const char *web_dir, const char *name, struct webpage_file *out)
{
    *out = (struct webpage_file){.fd = -1};
    if (!name_ok(name))
        return -ENOENT;
    /* Browsers ask for /favicon.ico on pages that name no icon (the records
     * the API serves): it is the page's own icon. */
    if (strcmp(name, "favicon.ico") == 0)
        name = "favicon.svg";
    out->type = content_type(name);
    return web_dir ? open_in_dir(web_dir, name, out) : open_embedded(name, out);
}

/* The entity tag at *p (W/ dropped), its length in *n; advances *p past it. */
static const char *next_tag(const char **p, size_t *n)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (!*s)
        return NULL;
    if (s[0] == 'W' && s[1] == '/')
        s += 2;
    const char *e = s;
    if (*e == '"') {
        e = strchr(e + 1, '"');
        e = e ? e + 1 : s + strlen(s);
    } else {
        while (*e && *e != ',' && *e != ' ' && *e != '\t')
            e++;
    }
    *n = (size_t)(e - s);
    *p = e;
    return s;
}

bool webpage_etag_matches(const char *if_none_match, const char *etag)
{
    size_t len = strlen(etag), n;
    const char *p = if_none_match, *t;
    if (!p)
        return false;
    while ((t = next_tag(&p, &n))) {
        if ((n == 1 && t[0] == '*') || (n == len && memcmp(t, etag, n) == 0))
            return true;
    }
    return false;
}

size_t webpage_embedded_count(void)
{
    size_t n = 0;
    while (webpage_embedded[n].name)
        n++;
    return n;
}
