/* fuzz_config: config_load() on the input written to a file (at most
 * 64 KiB; libconfig parses it, then every block's checks run).
 *
 * The file lives in a directory under /tmp that also holds a few files for
 * the *_file keys (secrets/token, secrets/key.hex, secrets/empty, web/), so both
 * their success and failure paths are reachable with relative paths. Inputs
 * with "@include" are skipped: an include reads any path of the machine
 * (/dev/zero never ends), which is the administrator's business, not an
 * input's; tests/unit covers includes.
 *
 * Oracle: no crash and no leak (libFuzzer's leak check is on by default
 * with ASan); 0 exactly when there is a config and no error; a failure has
 * at least one error, and every error has a file, a key and a message. */
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_MAX_BYTES (64 * 1024)

static char dir[64], path[96];

/* Written whole under a temporary name, then renamed: targets running in
 * parallel share the directory. */
static void write_file(const char *name, const char *text)
{
    char p[160], tmp[192];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.%ld", p, (long)getpid());
    FILE *f = fopen(tmp, "w");
    FUZZ_CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0 && rename(tmp, p) == 0, "cannot write %s",
               p);
}

/* One directory per user, kept (a crash skips atexit handlers, so a
 * directory per process would pile up); each process's config file is
 * removed after every load. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char sub[160];
    snprintf(dir, sizeof(dir), "/tmp/hallgw-fuzz-config-%ld", (long)getuid());
    snprintf(path, sizeof(path), "%s/hallgw-%ld.conf", dir, (long)getpid());
    FUZZ_CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s", dir);
    snprintf(sub, sizeof(sub), "%s/secrets", dir);
    FUZZ_CHECK(mkdir(sub, 0700) == 0 || errno == EEXIST, "mkdir %s", sub);
    snprintf(sub, sizeof(sub), "%s/web", dir);
    FUZZ_CHECK(mkdir(sub, 0700) == 0 || errno == EEXIST, "mkdir %s", sub);
    write_file("secrets/token", "s3cret-token-for-fuzzing\n");
    write_file("secrets/key.hex",
               "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    write_file("secrets/empty", "");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONFIG_MAX_BYTES || memmem(data, size, "@include", 8))
        return -1; /* not added to the corpus */
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f, "cannot write %s", path);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write %s", path);

    struct config *c = NULL;
    struct conf_errors errs;
    int rc = config_load(path, &c, &errs);
    (void)unlink(path);
    FUZZ_CHECK(rc <= 0, "result %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(c != NULL && errs.n == 0, "success with %zu errors or no config", errs.n);
        FUZZ_CHECK(c->path && strcmp(c->path, path) == 0 && c->mqtt.prefix && c->gateway.id,
                   "a loaded config without its path or defaults");
    } else {
        FUZZ_CHECK(c == NULL, "a failed load returned a config");
        FUZZ_CHECK(errs.n > 0, "a failed load (%d) without an error", rc);
        for (size_t i = 0; i < errs.n; i++) {
            const struct conf_error *e = &errs.v[i];
            FUZZ_CHECK(e->file && e->file[0], "error %zu without a file", i);
            FUZZ_CHECK(e->key && e->key[0], "error %zu (%s) without a key", i,
                       e->msg ? e->msg : "");
            FUZZ_CHECK(e->msg && e->msg[0], "error %zu (%s) without a message", i, e->key);
            FUZZ_CHECK(e->line >= 0, "error %zu at line %d", i, e->line);
        }
        /* What --check-config prints, into nowhere: formats every error. */
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            conf_errors_print(&errs, null);
            fclose(null);
        }
    }
    conf_errors_free(&errs);
    config_free(c);
    return 0;
}
