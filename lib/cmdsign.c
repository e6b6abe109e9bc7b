/* Signed commands: key loading, the canonical string, HMAC-SHA256 signing and
 * verification. The replay cache is in cmdsign_replay.c. */
#include "cmdsign.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "id.h"
#include "json.h"
#include "jsonw.h"
#include "utf8.h"

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53 */
#define MAC_LEN CRYPTO_SHA256_BYTES

/* ---- small helpers ------------------------------------------------------ */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hex_value((unsigned char)s[i]) < 0)
            return false;
    return true;
}

static bool in_set(const char *s, size_t n, size_t min, size_t max, const char *set)
{
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i]))
            return false;
    return true;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

static bool cmd_id_valid(const char *s, size_t n)
{
    return in_set(s, n, 1, CMDSIGN_ID_MAX, LOWER UPPER DIGITS "_.:-");
}

static bool action_valid(const char *s, size_t n)
{
    return in_set(s, n, 1, CMDSIGN_ACTION_MAX, LOWER "_");
}

static bool nonce_valid(const char *s, size_t n)
{
    return n >= CMDSIGN_NONCE_MIN && n <= CMDSIGN_NONCE_MAX && all_hex(s, n);
}

static bool arg_key_valid(const char *s, size_t n)
{
    return in_set(s, n, 1, CMDSIGN_ARG_KEY_MAX, LOWER DIGITS "_");
}

/* UTF-8 without control characters, so a value can not forge a line. */
static bool arg_str_valid(const char *s, size_t n)
{
    if (n > CMDSIGN_ARG_VALUE_MAX || !utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool time_valid(int64_t issued, int64_t expires)
{
    return issued >= 0 && expires > issued && (double)expires <= MAX_SAFE_INT &&
           expires - issued <= CMDSIGN_MAX_LIFETIME_S;
}

/* ---- key ---------------------------------------------------------------- */

int cmdsign_key_load(const char *path, uint8_t key[CMDSIGN_KEY_MAX], size_t *len)
{
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);

    *len = 0;
    if (fd < 0)
        return -errno;
    rc = cmdsign_key_read(fd, key, len);
    close(fd);
    return rc;
}

int cmdsign_key_read(int fd, uint8_t key[CMDSIGN_KEY_MAX], size_t *len)
{
    char buf[2 * CMDSIGN_KEY_MAX + 2];
    size_t n = 0;
    int rc = 0;

    *len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto out_wipe;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof(buf)) {
            rc = -EFBIG;
            goto out_wipe;
        }
    }
    while (n > 0 && strchr(" \t\r\n\v\f", buf[n - 1]) && buf[n - 1] != '\0')
        n--;
    if (n >= 2 * CMDSIGN_KEY_MIN && n % 2 == 0 && all_hex(buf, n)) {
        for (size_t i = 0; i < n / 2; i++)
            key[i] = (uint8_t)(hex_value((unsigned char)buf[2 * i]) << 4 |
                               hex_value((unsigned char)buf[2 * i + 1]));
        *len = n / 2;
    } else if (n > CMDSIGN_KEY_MAX) {
        rc = -EFBIG;
    } else {
        memcpy(key, buf, n);
        *len = n;
    }
    if (rc == 0 && *len < CMDSIGN_KEY_MIN)
        rc = -EINVAL;
out_wipe:
    crypto_wipe(buf, sizeof(buf));
    if (rc < 0) {
        crypto_wipe(key, CMDSIGN_KEY_MAX);
        *len = 0;
    }
    return rc;
}

/* ---- arguments ---------------------------------------------------------- */

static struct cmdsign_arg *arg_new(struct cmdsign_cmd *cmd, const char *key, int *rc)
{
    *rc = 0;
    if (!arg_key_valid(key, strlen(key)) || cmdsign_arg_get(cmd, key)) {
        *rc = -EINVAL;
        return NULL;
    }
    if (cmd->n_args >= CMDSIGN_MAX_ARGS) {
        *rc = -E2BIG;
        return NULL;
    }
    struct cmdsign_arg *a = &cmd->args[cmd->n_args];
    memset(a, 0, sizeof(*a));
    memcpy(a->key, key, strlen(key) + 1);
    return a;
}

int cmdsign_arg_int(struct cmdsign_cmd *cmd, const char *key, long long v)
{
    int rc;
    /* Integers only as far as a JSON number carries them exactly (2^53). */
    if (v < -(1LL << 53) || v > (1LL << 53))
        return -EINVAL;
    struct cmdsign_arg *a = arg_new(cmd, key, &rc);
    if (!a)
        return rc;
    a->type = CMDSIGN_ARG_INT;
    a->num = v;
    snprintf(a->value, sizeof(a->value), "%lld", v);
    cmd->n_args++;
    return 0;
}

int cmdsign_arg_str(struct cmdsign_cmd *cmd, const char *key, const char *v)
{
    int rc;
    if (!arg_str_valid(v, strlen(v)))
        return -EINVAL;
    struct cmdsign_arg *a = arg_new(cmd, key, &rc);
    if (!a)
        return rc;
    a->type = CMDSIGN_ARG_STR;
    memcpy(a->value, v, strlen(v) + 1);
    cmd->n_args++;
    return 0;
}

int cmdsign_arg_bool(struct cmdsign_cmd *cmd, const char *key, bool v)
{
    int rc;
    struct cmdsign_arg *a = arg_new(cmd, key, &rc);
    if (!a)
        return rc;
    a->type = CMDSIGN_ARG_BOOL;
    a->num = v;
    memcpy(a->value, v ? "true" : "false", v ? 5 : 6);
    cmd->n_args++;
    return 0;
}

const struct cmdsign_arg *cmdsign_arg_get(const struct cmdsign_cmd *cmd, const char *key)
{
    for (size_t i = 0; i < cmd->n_args && i < CMDSIGN_MAX_ARGS; i++)
        if (strcmp(cmd->args[i].key, key) == 0)
            return &cmd->args[i];
    return NULL;
}

enum cmdsign_action cmdsign_action_parse(const char *s)
{
    if (strcmp(s, "poweroff") == 0)
        return CMDSIGN_ACTION_POWEROFF;
    if (strcmp(s, "scan") == 0)
        return CMDSIGN_ACTION_SCAN;
    if (strcmp(s, "notify") == 0)
        return CMDSIGN_ACTION_NOTIFY;
    return CMDSIGN_ACTION_OTHER;
}

/* ---- canonical string and MAC ------------------------------------------ */

char *cmdsign_canonical(const struct cmdsign_cmd *cmd)
{
    struct buf b;
    buf_init(&b, 0);
    const struct cmdsign_arg *sorted[CMDSIGN_MAX_ARGS];
    size_t n = cmd->n_args < CMDSIGN_MAX_ARGS ? cmd->n_args : CMDSIGN_MAX_ARGS;

    /* Insertion sort by key: at most CMDSIGN_MAX_ARGS. */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && strcmp(sorted[j - 1]->key, cmd->args[i].key) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = &cmd->args[i];
    }
    buf_puts(&b, "v1\n");
    buf_puts(&b, cmd->id);
    buf_puts(&b, "\n");
    buf_puts(&b, cmd->action);
    buf_puts(&b, "\n");
    buf_puts(&b, cmd->hall);
    buf_puts(&b, "\n");
    buf_puts(&b, cmd->device);
    buf_puts(&b, "\n");
    buf_printf(&b, "%lld", (long long)cmd->issued);
    buf_puts(&b, "\n");
    buf_printf(&b, "%lld", (long long)cmd->expires);
    buf_puts(&b, "\n");
    buf_puts(&b, cmd->nonce);
    buf_puts(&b, "\n");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(&b, "\n");
        buf_puts(&b, sorted[i]->key);
        buf_puts(&b, "=");
        buf_puts(&b, sorted[i]->value);
    }
    return buf_steal(&b, NULL);
}

static int mac_of(const uint8_t *key, size_t key_len, const struct cmdsign_cmd *cmd,
                  uint8_t mac[MAC_LEN])
{
    char *canon = cmdsign_canonical(cmd);
    int rc;

    if (!canon)
        return -ENOMEM;
    rc = crypto_hmac_sha256(key, key_len, canon, strlen(canon), mac);
    free(canon);
    return rc;
}

void cmdsign_sha256_hex(const void *data, size_t len, char out[2 * 32 + 1])
{
    crypto_sha256_hex(data, len, out);
}

/* ---- build -------------------------------------------------------------- */

static bool cmd_valid(const struct cmdsign_cmd *cmd)
{
    if (!cmd_id_valid(cmd->id, strlen(cmd->id)) ||
        !action_valid(cmd->action, strlen(cmd->action)) ||
        !id_valid(cmd->hall, strlen(cmd->hall)) || !id_valid(cmd->device, strlen(cmd->device)) ||
        !nonce_valid(cmd->nonce, strlen(cmd->nonce)) || !time_valid(cmd->issued, cmd->expires) ||
        cmd->n_args > CMDSIGN_MAX_ARGS)
        return false;
    for (size_t i = 0; i < cmd->n_args; i++) {
        const struct cmdsign_arg *a = &cmd->args[i];
        if (!arg_key_valid(a->key, strlen(a->key)))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cmd->args[j].key, a->key) == 0)
                return false;
        if (a->type == CMDSIGN_ARG_STR && !arg_str_valid(a->value, strlen(a->value)))
            return false;
    }
    return true;
}

int cmdsign_build(const uint8_t *key, size_t key_len, struct cmdsign_cmd *cmd, char **out)
{
    uint8_t mac[MAC_LEN], rnd[16];
    char sig[2 * MAC_LEN + 1];
    struct buf b;
    buf_init(&b, 0);
    int rc;

    *out = NULL;
    if (!key || key_len < CMDSIGN_KEY_MIN)
        return -EINVAL;
    if (cmd->nonce[0] == '\0') {
        if (crypto_random(rnd, sizeof(rnd)) < 0)
            return -EIO;
        crypto_hex(rnd, sizeof(rnd), cmd->nonce);
    }
    if (!cmd_valid(cmd))
        return -EINVAL;
    if ((rc = mac_of(key, key_len, cmd, mac)) < 0)
        return rc;
    crypto_hex(mac, sizeof(mac), sig);

    buf_puts(&b, "{\"id\":");
    jsonw_str(&b, cmd->id);
    buf_puts(&b, ",\"action\":");
    jsonw_str(&b, cmd->action);
    buf_puts(&b, ",\"hall\":");
    jsonw_str(&b, cmd->hall);
    buf_puts(&b, ",\"device\":");
    jsonw_str(&b, cmd->device);
    buf_puts(&b, ",\"issued\":");
    jsonw_int(&b, (long long)cmd->issued);
    buf_puts(&b, ",\"expires\":");
    jsonw_int(&b, (long long)cmd->expires);
    buf_puts(&b, ",\"nonce\":");
    jsonw_str(&b, cmd->nonce);
    if (cmd->n_args) {
        buf_puts(&b, ",\"args\":{");
        for (size_t i = 0; i < cmd->n_args; i++) {
            const struct cmdsign_arg *a = &cmd->args[i];
            if (i)
                buf_puts(&b, ",");
            jsonw_str(&b, a->key);
            buf_puts(&b, ":");
            if (a->type == CMDSIGN_ARG_STR)
                jsonw_str(&b, a->value);
            else
                buf_puts(&b, a->value);
        }
        buf_puts(&b, "}");
    }
    buf_puts(&b, ",\"sig\":\"");
    buf_puts(&b, sig);
    buf_puts(&b, "\"}");
    size_t len;
    char *json = buf_steal(&b, &len);
    if (!json)
        return -ENOMEM;
    if (len > CMDSIGN_PAYLOAD_MAX) {
        /* It would not verify: refuse it here. */
        free(json);
        return -EINVAL;
    }
    *out = json;
    return 0;
}

/* ---- verify ------------------------------------------------------------- */

static bool num_int(const struct json_field *f, double lo, double hi, long long *v)
{
    if (f->type != JSON_T_NUMBER || f->num != floor(f->num) || f->num < lo || f->num > hi)
        return false;
    *v = (long long)f->num;
    return true;
}

static bool copy_str(const struct json_field *f, bool (*valid)(const char *, size_t), char *dst)
{
    if (f->type != JSON_T_STRING || !valid(f->str, f->str_len))
        return false;
    memcpy(dst, f->str, f->str_len + 1);
    return true;
}

static bool name_valid(const char *s, size_t n)
{
    return id_valid(s, n);
}

static int parse_arg(struct cmdsign_cmd *out, const struct json_field *f, const char **why)
{
    const char *key = f->key + 5;
    size_t klen = f->key_len - 5;
    struct cmdsign_arg *a;
    long long v;

    if (!arg_key_valid(key, klen)) {
        *why = "malformed: an argument name is not [a-z0-9_]{1,32} (args must be flat)";
        return CMDSIGN_E_MALFORMED;
    }
    if (out->n_args >= CMDSIGN_MAX_ARGS) {
        *why = "malformed: more than 8 arguments";
        return CMDSIGN_E_MALFORMED;
    }
    a = &out->args[out->n_args++];
    memcpy(a->key, key, klen + 1);
    switch (f->type) {
    case JSON_T_STRING:
        if (!arg_str_valid(f->str, f->str_len)) {
            *why = "malformed: an argument string is too long or holds control characters";
            return CMDSIGN_E_MALFORMED;
        }
        a->type = CMDSIGN_ARG_STR;
        memcpy(a->value, f->str, f->str_len + 1);
        return 0;
    case JSON_T_NUMBER:
        if (!num_int(f, -MAX_SAFE_INT, MAX_SAFE_INT, &v)) {
            *why = "malformed: an argument number is not an integer";
            return CMDSIGN_E_MALFORMED;
        }
        a->type = CMDSIGN_ARG_INT;
        a->num = v;
        snprintf(a->value, sizeof(a->value), "%lld", v);
        return 0;
    case JSON_T_BOOL:
        a->type = CMDSIGN_ARG_BOOL;
        a->num = f->b;
        snprintf(a->value, sizeof(a->value), "%s", f->b ? "true" : "false");
        return 0;
    case JSON_T_NULL:
        break;
    }
    *why = "malformed: an argument is null";
    return CMDSIGN_E_MALFORMED;
}

enum { F_ID, F_ACTION, F_HALL, F_DEVICE, F_ISSUED, F_EXPIRES, F_NONCE, F_COUNT };

static const char *const field_names[F_COUNT] = {"id",     "action",  "hall", "device",
                                                 "issued", "expires", "nonce"};
static const char *const field_missing[F_COUNT] = {
    "malformed: no id",     "malformed: no action",  "malformed: no hall", "malformed: no device",
    "malformed: no issued", "malformed: no expires", "malformed: no nonce"};
static const char *const field_bad[F_COUNT] = {
    "malformed: id is not [A-Za-z0-9_.:-]{1,64}",
    "malformed: action is not [a-z_]{1,32}",
    "malformed: hall is not a valid id",
    "malformed: device is not a valid id",
    "malformed: issued is not a unix time in whole seconds",
    "malformed: expires is not a unix time in whole seconds",
    "malformed: nonce is not 16 to 128 hex digits"};

static bool parse_field(struct cmdsign_cmd *out, int which, const struct json_field *f)
{
    long long v;

    switch (which) {
    case F_ID:
        return copy_str(f, cmd_id_valid, out->id);
    case F_ACTION:
        return copy_str(f, action_valid, out->action);
    case F_HALL:
        return copy_str(f, name_valid, out->hall);
    case F_DEVICE:
        return copy_str(f, name_valid, out->device);
    case F_NONCE:
        return copy_str(f, nonce_valid, out->nonce);
    case F_ISSUED:
    case F_EXPIRES:
        if (!num_int(f, 0, MAX_SAFE_INT, &v))
            return false;
        *(which == F_ISSUED ? &out->issued : &out->expires) = v;
        return true;
    }
    return false;
}

/* Reads every member into out; sig into sig_hex. */
static int parse_fields(const struct json_flat *flat, struct cmdsign_cmd *out, const char **why)
{
    unsigned seen = 0;

    for (size_t i = 0; i < flat->n; i++) {
        const struct json_field *f = &flat->fields[i];
        int which = -1;
        if (strcmp(f->key, "sig") == 0)
            continue;
        if (f->key_len > 5 && strncmp(f->key, "args_", 5) == 0) {
            int rc = parse_arg(out, f, why);
            if (rc < 0)
                return rc;
            continue;
        }
        for (int k = 0; k < F_COUNT; k++)
            if (strcmp(f->key, field_names[k]) == 0)
                which = k;
        if (which < 0) {
            *why = strcmp(f->key, "args") == 0 ? "malformed: args is not an object"
                                               : "malformed: unknown member";
            return CMDSIGN_E_MALFORMED;
        }
        if (!parse_field(out, which, f)) {
            *why = field_bad[which];
            return CMDSIGN_E_MALFORMED;
        }
        seen |= 1u << which;
    }
    for (int k = 0; k < F_COUNT; k++) {
        if (!(seen & (1u << k))) {
            *why = field_missing[k];
            return CMDSIGN_E_MALFORMED;
        }
    }
    if (out->expires <= out->issued) {
        *why = "malformed: expires is not after issued";
        return CMDSIGN_E_MALFORMED;
    }
    if (out->expires - out->issued > CMDSIGN_MAX_LIFETIME_S) {
        *why = "malformed: valid for more than 24 hours (expires - issued)";
        return CMDSIGN_E_MALFORMED;
    }
    return 0;
}

static int check_sig(const uint8_t *key, size_t key_len, const struct cmdsign_cmd *cmd,
                     const struct json_field *sig, const char **why)
{
    uint8_t want[MAC_LEN], got[MAC_LEN];
    int rc;

    if (!key || key_len < CMDSIGN_KEY_MIN) {
        *why = "bad signature: no command key to check it with";
        return CMDSIGN_E_BAD_SIG;
    }
    for (size_t i = 0; i < MAC_LEN; i++)
        got[i] = (uint8_t)(hex_value((unsigned char)sig->str[2 * i]) << 4 |
                           hex_value((unsigned char)sig->str[2 * i + 1]));
    if ((rc = mac_of(key, key_len, cmd, want)) < 0) {
        *why = "bad signature: cannot compute the HMAC";
        return rc == -ENOMEM ? -ENOMEM : CMDSIGN_E_BAD_SIG;
    }
    if (!crypto_equal(want, got, MAC_LEN)) {
        *why = "bad signature";
        return CMDSIGN_E_BAD_SIG;
    }
    return 0;
}

int cmdsign_verify(const uint8_t *key, size_t key_len, const char *payload, size_t len, int64_t now,
                   const char *expected_hall, const char *expected_device, struct cmdsign_cmd *out,
                   const char **why)
{
    struct json_limits lim = {
        .max_bytes = CMDSIGN_PAYLOAD_MAX, .max_depth = 2, .max_fields = 8 + CMDSIGN_MAX_ARGS};
    struct json_flat flat;
    const struct json_field *f;
    enum json_reject jr;
    int rc;

    memset(out, 0, sizeof(*out));
    *why = "";
    if (len > CMDSIGN_PAYLOAD_MAX) {
        *why = "malformed: larger than 8192 bytes";
        return CMDSIGN_E_TOO_LARGE;
    }
    jr = json_flatten(payload, len, &lim, &flat);
    if (jr != JSON_OK) {
        *why = jr == JSON_TOO_DEEP ? "malformed: nested deeper than a flat args object (no arrays)"
               : jr == JSON_TOO_MANY ? "malformed: too many members"
                                     : "malformed: not a JSON object";
        return CMDSIGN_E_MALFORMED;
    }
    if ((f = json_flat_get(&flat, "id")))
        (void)copy_str(f, cmd_id_valid, out->id);
    if (flat.dropped) {
        *why = "malformed: holds an array or a repeated member";
        rc = CMDSIGN_E_MALFORMED;
        goto out_free;
    }
    f = json_flat_get(&flat, "sig");
    if (!f || (f->type == JSON_T_STRING && f->str_len == 0)) {
        *why = "unsigned: no sig";
        rc = CMDSIGN_E_UNSIGNED;
        goto out_free;
    }
    if (f->type != JSON_T_STRING || f->str_len != CMDSIGN_SIG_HEX || !all_hex(f->str, f->str_len)) {
        *why = "bad signature: sig is not 64 hex digits";
        rc = CMDSIGN_E_BAD_SIG;
        goto out_free;
    }
    if ((rc = parse_fields(&flat, out, why)) < 0)
        goto out_free;
    if ((rc = check_sig(key, key_len, out, f, why)) < 0)
        goto out_free;
    out->action_code = cmdsign_action_parse(out->action);
    if ((expected_hall && strcmp(out->hall, expected_hall) != 0) ||
        (expected_device && strcmp(out->device, expected_device) != 0)) {
        *why = "wrong device: the command is for another hall or device";
        rc = CMDSIGN_E_WRONG_DEVICE;
    } else if (now >= out->expires) {
        *why = "expired";
        rc = CMDSIGN_E_EXPIRED;
    } else if (out->issued > now + CMDSIGN_FUTURE_SKEW_S) {
        *why = "not yet valid: issued more than 60 s in the future (check the clocks)";
        rc = CMDSIGN_E_NOT_YET;
    }
out_free:
    json_flat_free(&flat);
    return rc;
}
