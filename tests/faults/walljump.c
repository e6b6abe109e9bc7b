/* A wall clock that jumps, for one process, without touching the machine's.
 *
 * LD_PRELOAD=walljump.so WALLJUMP_FILE=/path/offset hallgw ...
 *
 * The file holds an offset in seconds (a decimal, may be negative), re-read
 * every 100 ms of real time. CLOCK_REALTIME as the gateway's own code reads
 * it (clock_gettime, time, gettimeofday) is shifted by the offset: like an
 * operator or NTP setting the clock. CLOCK_MONOTONIC is untouched, as on a
 * real machine. Calls from the shared libraries (Paho, libcurl, SQLite, ...)
 * see the real clock: their timed waits compare against the kernel's
 * CLOCK_REALTIME, which this cannot shift.
 *
 * Built by tests/faults/test_clock.py with the system C compiler. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static clock_gettime_fn real_clock_gettime;
static uintptr_t main_lo, main_hi; /* the executable's mapped range */
static int64_t offset_ns;
static int64_t next_read_ns;

static int find_main(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!main_lo || lo < main_lo)
            main_lo = lo;
        if (hi > main_hi)
            main_hi = hi;
    }
    return 1; /* the first object is the executable */
}

static void init(void)
{
    if (!real_clock_gettime) {
        real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        dl_iterate_phdr(find_main, NULL);
    }
}

static int64_t current_offset(void)
{
    struct timespec m;
    real_clock_gettime(CLOCK_MONOTONIC, &m);
    int64_t now = (int64_t)m.tv_sec * 1000000000 + m.tv_nsec;
    if (now >= __atomic_load_n(&next_read_ns, __ATOMIC_RELAXED)) {
        __atomic_store_n(&next_read_ns, now + 100000000, __ATOMIC_RELAXED);
        const char *path = getenv("WALLJUMP_FILE");
        FILE *f = path ? fopen(path, "re") : NULL;
        double s;
        if (f) {
            if (fscanf(f, "%lf", &s) == 1)
                __atomic_store_n(&offset_ns, (int64_t)(s * 1e9), __ATOMIC_RELAXED);
            fclose(f);
        }
    }
    return __atomic_load_n(&offset_ns, __ATOMIC_RELAXED);
}

static int from_main(const void *caller)
{
    return (uintptr_t)caller >= main_lo && (uintptr_t)caller < main_hi;
}

static int shifted(clockid_t id, struct timespec *ts, const void *caller)
{
    int r = real_clock_gettime(id, ts);
    if (r != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE) || !from_main(caller))
        return r;
    int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + current_offset();
    ts->tv_sec = ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    init();
    return shifted(id, ts, __builtin_return_address(0));
}

time_t time(time_t *t)
{
    struct timespec ts;
    init();
    shifted(CLOCK_REALTIME, &ts, __builtin_return_address(0));
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

/* glibc declares tv nonnull; a NULL one is still handled, as the kernel does. */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;
    (void)tz;
    init();
    shifted(CLOCK_REALTIME, &ts, __builtin_return_address(0));
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}
