/* The live hall page's files: built into the program from dashboards/web
 * (a source generated at build time by cmake/Embed.cmake), or, where a site
 * customises the page, read from the directory http.web_dir.
 *
 * Each file comes with its Content-Type and a strong ETag: for a built-in
 * file a hash of its content, for a file of web_dir its size and
 * modification time, so a browser that revalidates is answered 304 until the
 * file changes. */
#ifndef HALLGW_WEBPAGE_H
#define HALLGW_WEBPAGE_H

#include <stdbool.h>
#include <stddef.h>

/* One built-in file. The generated table ends with an entry whose name is
 * NULL. data holds len bytes and a NUL after them. */
struct embed_file {
    const char *name; /* relative to dashboards/web: "index.html", "app.js" */
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted: "\"0123456789abcdef\"" */
};

extern const struct embed_file webpage_embedded[];

#define WEBPAGE_FILE_MAX (4u << 20) /* files of web_dir larger than this are not served */

struct webpage_file {
    const char *type; /* Content-Type */
    char etag[48];    /* quoted */
    size_t len;
    const unsigned char *data; /* a built-in file; NULL for a file of web_dir */
    int fd;                    /* a file of web_dir, open for reading (the caller's); else -1 */
};

/* Finds the file name ("index.html"; no leading '/'): in web_dir when it is
 * not NULL, else among the built-in files. Names are [A-Za-z0-9._-], not
 * starting with '.'; anything else is not found. Returns 0 and *out, or
 * -ENOENT (no such regular file, a name that may not be served, or a file of
 * web_dir over WEBPAGE_FILE_MAX bytes). */
int webpage_open(const char *web_dir, const char *name, struct webpage_file *out);

/* True when an If-None-Match header value (a list of ETags, or "*") names
 * etag. Weak ETags (W/"...") match too, as RFC 9110 asks of If-None-Match. */
bool webpage_etag_matches(const char *if_none_match, const char *etag);

/* The number of built-in files. */
size_t webpage_embedded_count(void);

#endif
