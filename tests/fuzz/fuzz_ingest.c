/* fuzz_ingest: ingest_message() end to end (route, resolve, decode, hall
 * model, encode) on a hall model built from a small fixed config that binds
 * the fixtures' native and foreign devices (written to /tmp and loaded once
 * with config_load() in LLVMFuzzerInitialize). Input: topic\0payload. The
 * message is ingested twice into a fresh hall model, so the second time
 * finds the device with its last values.
 *
 * Oracle: a message that is not INGEST_WRITTEN adds nothing to the output; a
 * written one adds exactly one line, names its device, and every line of
 * the output parses back with lineproto_parse() with a timestamp and the
 * device's hall, device and kind tags. */
#include "fuzz.h"

#include <errno.h>
#include <unistd.h>

#include "config.h"
#include "hallmodel.h"
#include "ingest.h"
#include "lineproto_parse.h"

static const char config_text[] =
    "gateway = { id = \"gw-fuzz\"; timezone = \"UTC\"; state_dir = \"/tmp\"; };\n"
    "mqtt = { uri = \"tcp://127.0.0.1:1883\"; prefix = \"hall\"; };\n"
    "limits = { max_devices = 64; };\n"
    "unknown_devices = \"accept\";\n"
    "halls = (\n"
    "  { id = \"h1\"; windows = (\n"
    "      { id = \"w01\"; seat = \"seat-w01\"; pc = \"pc-w01\"; plug = \"plug-w01\"; queue = "
    "\"queue\"; },\n"
    "      { id = \"w02\"; seat = \"fp1-w02\"; }\n"
    "  ); },\n"
    "  { id = \"h2\"; }\n"
    ");\n"
    "devices = (\n"
    "  { id = \"seat-w01\"; hall = \"h1\"; kind = \"seat\"; },\n"
    "  { id = \"pc-w01\"; hall = \"h1\"; kind = \"pc\"; },\n"
    "  { id = \"queue\"; hall = \"h1\"; kind = \"queue\"; },\n"
    "  { id = \"env-1\"; hall = \"h1\"; kind = \"env\"; },\n"
    "  { id = \"printer-1\"; hall = \"h1\"; kind = \"equipment\"; type = \"printer\"; },\n"
    "  { id = \"z-seat-w01\"; hall = \"h1\"; kind = \"people\"; source = \"zigbee2mqtt:seat_w01\"; "
    "},\n"
    "  { id = \"z-air-1\"; hall = \"h1\"; kind = \"env\"; source = \"zigbee2mqtt:1F/hall/air_1\"; "
    "},\n"
    "  { id = \"z-co2\"; hall = \"h1\"; kind = \"env\"; source = \"zigbee2mqtt:co2_hall\"; },\n"
    "  { id = \"fp1-w02\"; hall = \"h1\"; kind = \"seat\"; source = \"zigbee2mqtt:fp1_w02\"; },\n"
    "  { id = \"z-plug\"; hall = \"h2\"; kind = \"plug\"; source = \"zigbee2mqtt:plug_printer\"; "
    "},\n"
    "  { id = \"t-air-1\"; hall = \"h1\"; kind = \"env\"; source = \"tasmota:air_1\"; },\n"
    "  { id = \"t-plug-w01\"; hall = \"h1\"; kind = \"plug\"; source = \"tasmota:plug_w01\"; },\n"
    "  { id = \"t-lux\"; hall = \"h2\"; kind = \"env\"; source = \"tasmota:lux_1\"; },\n"
    "  { id = \"plug-w01\"; hall = \"h1\"; kind = \"plug\"; source = "
    "\"shelly:shellyplusplugs-a8032ab1\"; }\n"
    ");\n";

static struct config *cfg;
static struct ingest in; /* holds a struct reading: too large for the stack */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[64];
    struct conf_errors errs;
    snprintf(path, sizeof(path), "/tmp/hallgw-fuzz-ingest-%ld.conf", (long)getpid());
    FILE *f = fopen(path, "w");
    FUZZ_CHECK(f && fputs(config_text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
    int rc = config_load(path, &cfg, &errs);
    if (rc < 0)
        conf_errors_print(&errs, stderr);
    FUZZ_CHECK(rc == 0, "the fixed config does not load: %d", rc);
    conf_errors_free(&errs);
    (void)unlink(path);
    return 0;
}

static void check_line(const char *line, size_t len)
{
    struct lp_point p;
    int rc = lineproto_parse(line, len, &p);
    FUZZ_CHECK(rc == 0, "an ingested line does not parse (%d): %.*s", rc, (int)len, line);
    FUZZ_CHECK(p.has_ts, "no timestamp: %.*s", (int)len, line);
    bool hall = false, device = false, kind = false;
    for (size_t i = 0; i < p.n_tags; i++) {
        hall |= strcmp(p.tags[i].key, "hall") == 0;
        device |= strcmp(p.tags[i].key, "device") == 0;
        kind |= strcmp(p.tags[i].key, "kind") == 0;
    }
    FUZZ_CHECK(hall && device && kind, "hall, device or kind tag missing: %.*s", (int)len, line);
    lineproto_point_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t, *pl;
    size_t tlen, plen;
    struct hallmodel *hm;
    struct buf out;
    const wall_s arrival = 1764150000.0; /* 2025-11-26 */

    fuzz_split(data, size, &t, &tlen, &pl, &plen);
    char *topic = fuzz_copy(t, tlen);
    char *payload = fuzz_copy(pl, plen);
    FUZZ_CHECK(hallmodel_new(cfg, &hm) == 0, "hallmodel_new");
    ingest_init(&in, cfg, hm);
    buf_init(&out, 1 << 20);

    size_t written = 0;
    for (int round = 0; round < 2; round++) {
        struct hm_device *dev = NULL;
        size_t before = out.len;
        enum ingest_outcome o = ingest_message(&in, topic, tlen, payload, plen, false,
                                               1000 + round * 1000, arrival + round, &out, &dev);
        FUZZ_CHECK(o == INGEST_WRITTEN || o == INGEST_IGNORED || o == INGEST_REJECTED, "outcome %d",
                   (int)o);
        if (o == INGEST_WRITTEN) {
            written++;
            FUZZ_CHECK(dev != NULL, "written without a device");
            FUZZ_CHECK(out.len > before &&
                           lineproto_count_lines(out.data + before, out.len - before) == 1,
                       "a written message added %zu lines",
                       lineproto_count_lines(out.data + before, out.len - before));
        } else {
            FUZZ_CHECK(out.len == before, "a message not written (%d) added output", (int)o);
        }
    }
    FUZZ_CHECK(lineproto_count_lines(out.data ? out.data : "", out.len) == written, "lines");
    for (size_t pos = 0; pos < out.len;) {
        const char *nl = memchr(out.data + pos, '\n', out.len - pos);
        FUZZ_CHECK(nl != NULL, "output does not end in a newline");
        check_line(out.data + pos, (size_t)(nl - (out.data + pos)));
        pos = (size_t)(nl - out.data) + 1;
    }

    buf_free(&out);
    hallmodel_free(hm);
    free(payload);
    free(topic);
    return 0;
}
