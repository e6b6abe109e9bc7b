/* fuzz_cmdsign: signed commands, with a fixed key, hall "h1", device "pc-w01".
 *
 * 1. cmdsign_verify() on the raw input at a fixed now: the result is 0 or
 *    one of the documented codes with a reason; on a refusal out->id is ""
 *    or a valid id; an accepted command is for h1/pc-w01, within its time,
 *    and rebuilt with cmdsign_build() it verifies again to the same command.
 * 2. Round trip: a command is derived from the input (id, action, hall,
 *    device, issued, expires, nonce, up to 9 arguments of every type, mostly
 *    from the allowed characters, sometimes not; integers also from a table
 *    of edges: +-2^53 +-1, LLONG_MIN, LLONG_MAX) through cmdsign_arg_*().
 *    When cmdsign_build() accepts it (0), cmdsign_verify() of its output at
 *    now = issued, for its own hall and device, must succeed (cmdsign.h:
 *    build refuses what would not verify) and give back the same fields,
 *    arguments in order, and the same canonical string.
 */
#include "fuzz.h"

#include <errno.h>
#include <limits.h>

#include "cmdsign.h"
#include "id.h"

static const uint8_t key[32] = "hallgw-fuzz-command-key-32bytes";
static const int64_t verify_now = 1767261700;

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

/* Up to max characters of set; a byte >= 248 gives a character outside
 * every set instead. */
static void pick(struct fuzz_in *in, char *out, size_t max, const char *set)
{
    static const char outside[] = "/ \"\\\x01\x7f\xc3#";
    size_t n = fuzz_u8(in) % (max + 1), set_len = strlen(set);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = fuzz_u8(in);
        out[i] = b >= 248 ? outside[b - 248] : set[b % set_len];
    }
    out[n] = '\0';
}

/* An argument string: short ones from fuzz_string(), or one token repeated
 * up to CMDSIGN_ARG_VALUE_MAX bytes (how a long text looks). */
static void arg_string(struct fuzz_in *in, char *out)
{
    uint8_t how = fuzz_u8(in);
    if (how < 192) {
        fuzz_string(in, out, 255);
        return;
    }
    const char *t = fuzz_tokens[fuzz_u8(in) % FUZZ_N_TOKENS];
    size_t want = (size_t)fuzz_u8(in) * 8 + 8, tl = strlen(t), n = 0;
    while (n + tl <= want && n + tl <= CMDSIGN_ARG_VALUE_MAX) {
        memcpy(out + n, t, tl);
        n += tl;
    }
    out[n] = '\0';
}

static void derive(struct fuzz_in *in, struct cmdsign_cmd *cmd)
{
    char value[CMDSIGN_ARG_VALUE_MAX + 1], akey[CMDSIGN_ARG_KEY_MAX + 1];

    memset(cmd, 0, sizeof(*cmd));
    pick(in, cmd->id, CMDSIGN_ID_MAX, LOWER UPPER DIGITS "_.:-");
    pick(in, cmd->action, CMDSIGN_ACTION_MAX, LOWER "_");
    pick(in, cmd->hall, CMDSIGN_NAME_MAX, LOWER UPPER DIGITS "_.-");
    pick(in, cmd->device, CMDSIGN_NAME_MAX, LOWER UPPER DIGITS "_.-");
    pick(in, cmd->nonce, CMDSIGN_NONCE_MAX, DIGITS "abcdefABCDEF");
    if (!cmd->nonce[0]) /* build would draw a random one: keep runs reproducible */
        strcpy(cmd->nonce, "00112233445566778899aabbccddeeff");
    uint8_t mode = fuzz_u8(in);
    if (mode & 1) { /* anything */
        cmd->issued = (int64_t)fuzz_u64(in);
        cmd->expires = (int64_t)fuzz_u64(in);
    } else { /* mostly plausible */
        cmd->issued = (int64_t)(fuzz_u64(in) % (UINT64_C(1) << 53));
        cmd->expires = cmd->issued + (int64_t)(fuzz_u64(in) % (CMDSIGN_MAX_LIFETIME_S + 2));
    }
    size_t n_args = fuzz_u8(in) % (CMDSIGN_MAX_ARGS + 2);
    for (size_t i = 0; i < n_args; i++) {
        pick(in, akey, CMDSIGN_ARG_KEY_MAX, LOWER DIGITS "_");
        switch (fuzz_u8(in) % 4) {
        case 0: /* any integer */
            (void)cmdsign_arg_int(cmd, akey, (long long)fuzz_u64(in));
            break;
        case 1: { /* the edges: around +-2^53 and the ends of long long */
            static const long long edges[] = {
                0,
                1,
                -1,
                9007199254740991LL,
                9007199254740992LL,
                9007199254740993LL,
                -9007199254740991LL,
                -9007199254740992LL,
                -9007199254740993LL,
                LLONG_MAX,
                LLONG_MIN,
                LLONG_MIN + 1,
            };
            (void)cmdsign_arg_int(cmd, akey,
                                  edges[fuzz_u8(in) % (sizeof(edges) / sizeof(edges[0]))]);
            break;
        }
        case 2:
            arg_string(in, value);
            (void)cmdsign_arg_str(cmd, akey, value);
            break;
        default:
            (void)cmdsign_arg_bool(cmd, akey, fuzz_u8(in) & 1);
            break;
        }
    }
}

static void check_same(const struct cmdsign_cmd *a, const struct cmdsign_cmd *b, const char *json)
{
    FUZZ_CHECK(strcmp(a->id, b->id) == 0 && strcmp(a->action, b->action) == 0 &&
                   strcmp(a->hall, b->hall) == 0 && strcmp(a->device, b->device) == 0 &&
                   strcmp(a->nonce, b->nonce) == 0,
               "id, action, hall, device or nonce changed: %s", json);
    FUZZ_CHECK(a->issued == b->issued && a->expires == b->expires, "times changed: %s", json);
    FUZZ_CHECK(b->action_code == cmdsign_action_parse(b->action), "action code");
    FUZZ_CHECK(a->n_args == b->n_args, "%zu arguments built, %zu verified: %s", a->n_args,
               b->n_args, json);
    for (size_t i = 0; i < a->n_args; i++) {
        const struct cmdsign_arg *x = &a->args[i], *y = &b->args[i];
        FUZZ_CHECK(
            strcmp(x->key, y->key) == 0 && x->type == y->type && strcmp(x->value, y->value) == 0,
            "argument %s=%s came back as %s=%s: %s", x->key, x->value, y->key, y->value, json);
        FUZZ_CHECK(x->type == CMDSIGN_ARG_STR || x->num == y->num, "argument %s: %lld vs %lld",
                   x->key, x->num, y->num);
    }
    char *ca = cmdsign_canonical(a), *cb = cmdsign_canonical(b);
    FUZZ_CHECK(ca && cb && strcmp(ca, cb) == 0, "canonical strings differ");
    free(ca);
    free(cb);
}

/* Builds cmd and verifies the result at now, for cmd's own hall and device. */
static void build_and_verify(struct cmdsign_cmd *cmd, int64_t now)
{
    static struct cmdsign_cmd got;
    char *json = NULL;
    const char *why = NULL;

    int rc = cmdsign_build(key, sizeof(key), cmd, &json);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "build: %d", rc);
    if (rc != 0) {
        FUZZ_CHECK(json == NULL, "a refused build returned text");
        return;
    }
    FUZZ_CHECK(json != NULL, "no text");
    rc = cmdsign_verify(key, sizeof(key), json, strlen(json), now, cmd->hall, cmd->device, &got,
                        &why);
    FUZZ_CHECK(rc == 0,
               "cmdsign_build made a command cmdsign_verify refuses (%d: %s), %zu bytes: %.300s",
               rc, why ? why : "", strlen(json), json);
    check_same(cmd, &got, json);
    free(json);
}

static void verify_raw(const uint8_t *data, size_t size)
{
    static struct cmdsign_cmd out, again;
    const char *why = NULL;
    char *payload = fuzz_copy((const char *)data, size);

    int rc =
        cmdsign_verify(key, sizeof(key), payload, size, verify_now, "h1", "pc-w01", &out, &why);
    FUZZ_CHECK(rc == 0 || rc == CMDSIGN_E_MALFORMED || rc == CMDSIGN_E_TOO_LARGE ||
                   rc == CMDSIGN_E_UNSIGNED || rc == CMDSIGN_E_BAD_SIG || rc == CMDSIGN_E_EXPIRED ||
                   rc == CMDSIGN_E_NOT_YET || rc == CMDSIGN_E_WRONG_DEVICE || rc == -ENOMEM,
               "verify: %d", rc);
    FUZZ_CHECK(why != NULL && (rc == 0 || why[0] != '\0'), "a refusal (%d) without a reason", rc);
    FUZZ_CHECK(memchr(out.id, '\0', sizeof(out.id)), "id not terminated");
    FUZZ_CHECK(out.id[0] == '\0' || strspn(out.id, LOWER UPPER DIGITS "_.:-") == strlen(out.id),
               "id \"%s\"", out.id);
    if (rc == 0) {
        FUZZ_CHECK(strcmp(out.hall, "h1") == 0 && strcmp(out.device, "pc-w01") == 0, "target");
        FUZZ_CHECK(out.issued <= verify_now + CMDSIGN_FUTURE_SKEW_S && verify_now < out.expires &&
                       out.expires - out.issued <= CMDSIGN_MAX_LIFETIME_S,
                   "times");
        FUZZ_CHECK(out.n_args <= CMDSIGN_MAX_ARGS, "%zu arguments", out.n_args);
        again = out;
        build_and_verify(&again, verify_now);
    }
    free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cmdsign_cmd cmd;
    struct fuzz_in in = {data, size};

    verify_raw(data, size);
    derive(&in, &cmd);
    build_and_verify(&cmd, cmd.issued);
    return 0;
}
