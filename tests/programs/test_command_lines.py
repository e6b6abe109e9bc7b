"""Every program's command line: --help prints the manual's summary on
stdout and exits 0, --version prints "<program> <version>" (the project's,
from CMakeLists.txt) and exits 0, and a mistake (an unknown option) exits 2
with a message on stderr that names the option, and nothing on stdout."""

import os
import subprocess
import sys

BUILD = os.environ["HALLGW_BUILD_DIR"]
SOURCE = os.environ["HALLGW_SOURCE_DIR"]
VERSION = os.environ["HALLGW_VERSION"]

PROGRAMS = [
    ("hallgw", os.path.join(BUILD, "hallgw")),
    ("hallgw-agent", os.path.join(BUILD, "hallgw-agent")),
    ("hallgw-sim", os.path.join(BUILD, "hallgw-sim")),
    ("hall-provision", os.path.join(SOURCE, "scripts", "hall-provision")),
] + [("bench-" + b, os.path.join(BUILD, "bench", "bench-" + b))
     for b in ("loadgen", "countsub", "latsub", "echosub")
     if os.path.exists(os.path.join(BUILD, "bench", "bench-" + b))]

# The subcommands of hallgw answer --help too.
SUBCOMMANDS = [["alerts"], ["ack"], ["override"], ["report"], ["user"], ["token"], ["audit"], ["silence"], ["notify"],
               ["devices"]]


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def main():
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
            print("FAIL", what, flush=True)

    for name, path in PROGRAMS:
        p = run([path, "--help"])
        check(p.returncode == 0, "%s --help exits %d" % (name, p.returncode))
        check(len(p.stdout.splitlines()) >= 5 and ("Usage" in p.stdout or "SYNOPSIS" in p.stdout),
              "%s --help prints no usage: %r" % (name, p.stdout[:200]))
        check("--version" in p.stdout or "-V" in p.stdout,
              "%s --help does not mention --version" % name)
        p = run([path, "--version"])
        check(p.returncode == 0 and p.stdout == "%s %s\n" % (name, VERSION),
              "%s --version: exit %d, %r" % (name, p.returncode, p.stdout))
        p = run([path, "--no-such-option"])
        check(p.returncode == 2, "%s --no-such-option exits %d" % (name, p.returncode))
        check(p.stdout == "", "%s --no-such-option writes to stdout" % name)
        check("no-such-option" in p.stderr,
              "%s --no-such-option does not name it: %r" % (name, p.stderr[:200]))
    hallgw = PROGRAMS[0][1]
    for sub in SUBCOMMANDS:
        p = run([hallgw] + sub + ["--help"])
        check(p.returncode == 0 and ("Usage" in p.stdout or "SYNOPSIS" in p.stdout),
              "hallgw %s --help: exit %d, %r" % (sub[0], p.returncode, p.stdout[:100]))
        p = run([hallgw] + sub + ["--no-such-option"])
        check(p.returncode == 2 and "no-such-option" in p.stderr,
              "hallgw %s --no-such-option: exit %d, %r" % (sub[0], p.returncode, p.stderr[:100]))
    p = run([hallgw, "frobnicate"])
    check(p.returncode == 2 and "frobnicate" in p.stderr,
          "hallgw frobnicate: exit %d, %r" % (p.returncode, p.stderr[:200]))
    print("%d programs checked, %d failures" % (len(PROGRAMS), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
