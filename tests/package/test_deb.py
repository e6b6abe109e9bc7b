#!/usr/bin/env python3
"""The Debian packages: what they hold and, as root, what they do to a machine.

Builds hallgw_<ver>_<arch>.deb and hallgw-agent_<ver>_<arch>.deb with cpack in
<build>/package (a build configured with CMAKE_INSTALL_PREFIX=/usr, which the
Debian layout needs) and checks their contents with dpkg-deb. As root, with
dpkg usable, it then installs both on this machine, runs the installed
`hallgw --check-config`, `systemd-analyze verify` and `systemd-analyze
security` on the installed units, upgrades to a newer revision over a locally
edited /etc/hallgw/hallgw.conf, and removes and purges both, always: it
refuses to start when hallgw is installed already or its files exist.
"""

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
BUILD = os.environ["HALLGW_BUILD_DIR"]
SOURCE = os.environ["HALLGW_SOURCE_DIR"]
CMAKE = os.environ.get("HALLGW_CMAKE", "cmake")
CPACK = os.environ.get("HALLGW_CPACK", "cpack")
BUILD_TYPE = os.environ.get("HALLGW_BUILD_TYPE") or "RelWithDebInfo"
PKG_BUILD = os.path.join(BUILD, "package")
PACKAGES = ("hallgw", "hallgw-agent")

# Paths the packages install or their purge deletes: none may exist before.
OWNED_PATHS = ["/usr/bin/hallgw", "/usr/bin/hallgw-agent", "/usr/bin/hallgw-sim",
               "/usr/bin/hall-provision", "/lib/systemd/system/hallgw.service",
               "/lib/systemd/system/hallgw-agent.service", "/etc/hallgw/hallgw.conf",
               "/etc/hallgw/rules.default.conf", "/etc/hallgw/agent.conf",
               "/usr/share/hallgw", "/var/lib/hallgw", "/var/lib/private/hallgw",
               "/var/lib/hallgw-agent"]


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(argv, ok=True, **kw):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, **kw)
    if ok and p.returncode != 0:
        fail(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}")
    return p


def build_debs(release):
    """cpack in the /usr build; returns {package: path of its .deb}."""
    run([CMAKE, "-S", SOURCE, "-B", PKG_BUILD, "-DCMAKE_INSTALL_PREFIX=/usr",
         f"-DCMAKE_BUILD_TYPE={BUILD_TYPE}", "-DHALLGW_TESTS=OFF", "-DHALLGW_BENCH=OFF",
         f"-DHALLGW_DEB_RELEASE={release}"])
    run([CMAKE, "--build", PKG_BUILD, "-j2", "--target", "hallgw", "hallgw-agent",
         "hallgw-sim"])
    out = os.path.join(PKG_BUILD, "packages")
    for old in glob.glob(os.path.join(out, "*.deb")):
        os.unlink(old)
    run([CPACK, "-G", "DEB"], cwd=PKG_BUILD)
    debs = {}
    for path in glob.glob(os.path.join(out, "*.deb")):
        debs[deb_field(path, "Package")] = path
    check(sorted(debs) == sorted(PACKAGES), f"cpack made {sorted(debs)}, not {PACKAGES}")
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    version = deb_field(debs["hallgw"], "Version")
    for name, path in debs.items():
        check(os.path.basename(path) == f"{name}_{version}_{arch}.deb",
              f"{path}: not named {name}_{version}_{arch}.deb")
    return debs


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def deb_files(deb):
    """Regular files and links of a .deb, as absolute paths."""
    files = set()
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        parts = line.split(None, 5)
        if parts and not parts[0].startswith("d"):
            files.add(parts[5].split(" -> ")[0].lstrip("."))
    return files


def deb_control_file(deb, name):
    with tempfile.TemporaryDirectory() as d:
        run(["dpkg-deb", "-e", deb, d])
        path = os.path.join(d, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return f.read()


def source_files(subdir, dest):
    """Files of SOURCE/subdir, as the paths they get under dest."""
    root = os.path.join(SOURCE, subdir)
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.join(dest, os.path.relpath(os.path.join(d, n), root)))
    return out


def check_contents(debs):
    gw, agent = deb_files(debs["hallgw"]), deb_files(debs["hallgw-agent"])
    want_gw = {"/usr/bin/hallgw", "/usr/bin/hallgw-sim", "/usr/bin/hall-provision",
               "/lib/systemd/system/hallgw.service", "/usr/lib/sysusers.d/hallgw.conf",
               "/etc/hallgw/hallgw.conf", "/etc/hallgw/rules.default.conf",
               "/usr/share/doc/hallgw/README.md", "/usr/share/doc/hallgw/examples/hallgw.conf",
               "/usr/share/doc/hallgw/copyright", "/usr/share/man/man8/hallgw.8.gz",
               "/usr/share/man/man5/hallgw.conf.5.gz", "/usr/share/man/man1/hallgw-sim.1.gz"}
    want_gw |= source_files("dashboards/web", "/usr/share/hallgw/web")
    want_gw |= source_files("dashboards/grafana", "/usr/share/hallgw/grafana")
    want_gw |= source_files("config/mosquitto", "/usr/share/hallgw/mosquitto")
    want_agent = {"/usr/bin/hallgw-agent", "/lib/systemd/system/hallgw-agent.service",
                  "/etc/hallgw/agent.conf", "/usr/share/doc/hallgw/agents.md",
                  "/usr/share/doc/hallgw-agent/copyright", "/usr/share/man/man8/hallgw-agent.8.gz"}
    check(not want_gw - gw, f"hallgw.deb lacks {sorted(want_gw - gw)}")
    check(not want_agent - agent, f"hallgw-agent.deb lacks {sorted(want_agent - agent)}")
    check(not gw & agent, f"both packages hold {sorted(gw & agent)}")

    for name, files in (("hallgw", gw), ("hallgw-agent", agent)):
        deb = debs[name]
        conffiles = set((deb_control_file(deb, "conffiles") or "").split())
        etc = {f for f in files if f.startswith("/etc/")}
        check(conffiles == etc, f"{name}: conffiles {sorted(conffiles)}, /etc files {sorted(etc)}")
        for script in ("postinst", "prerm", "postrm"):
            check(deb_control_file(deb, script), f"{name}: no {script}")
        check(deb_field(deb, "Maintainer") == "hallgw maintainers", f"{name}: Maintainer")
        check(deb_field(deb, "Section") and deb_field(deb, "Priority"), f"{name}: Section/Priority")
        # dpkg-shlibdeps ran: the C library and the MQTT client are named.
        depends = deb_field(deb, "Depends")
        check("libc6" in depends and "libpaho-mqtt" in depends, f"{name}: Depends {depends!r}")
    # The agent links only what it uses: no database, no HTTP server or client.
    depends = deb_field(debs["hallgw-agent"], "Depends")
    for lib in ("libsqlite3", "libmicrohttpd", "libcurl"):
        check(lib not in depends, f"hallgw-agent depends on {lib}: {depends!r}")
    check("/etc/hallgw/hallgw.conf" in deb_control_file(debs["hallgw"], "conffiles").split(),
          "hallgw.conf is not a conffile")

    # The packaged units are the source tree's, and the packaged config is
    # valid as it stands (its @include resolves next to it).
    with tempfile.TemporaryDirectory() as root:
        run(["dpkg-deb", "-x", debs["hallgw"], root])
        run(["dpkg-deb", "-x", debs["hallgw-agent"], root])
        for unit in ("hallgw", "hallgw-agent"):
            with open(f"{root}/lib/systemd/system/{unit}.service") as a, \
                    open(f"{SOURCE}/systemd/{unit}.service") as b:
                check(a.read() == b.read(), f"the packaged {unit}.service differs from systemd/")
        p = run([f"{root}/usr/bin/hallgw", "--check-config", f"{root}/etc/hallgw/hallgw.conf"],
                ok=False)
        check(p.returncode == 0, f"packaged hallgw.conf fails --check-config:\n{p.stdout}")
    print(f"contents: hallgw {len(gw)} files, hallgw-agent {len(agent)} files; "
          f"Depends of hallgw: {deb_field(debs['hallgw'], 'Depends')}", flush=True)


def package_state(name):
    p = run(["dpkg-query", "-W", "-f=${Status} ${Version}", name], ok=False)
    return p.stdout.strip() if p.returncode == 0 else ""


def installed(name):
    return package_state(name).startswith("install ok installed")


def refuse_reason():
    for name in PACKAGES:
        state = package_state(name)
        if state and "not-installed" not in state:
            return f"package {name} is on this machine already ({state})"
    for path in OWNED_PATHS:
        if os.path.lexists(path):
            return f"{path} exists"
    return None


def dpkg(*args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return run(["dpkg", *args], ok=False, env=env)


def install(debs):
    p = dpkg("-i", debs["hallgw"], debs["hallgw-agent"])
    if p.returncode != 0:
        print(f"dpkg -i: {p.stdout}\ntrying apt-get install -f", flush=True)
        run(["apt-get", "install", "-f", "-y", "-q"],
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    for name in PACKAGES:
        check(installed(name), f"{name} is not installed: {package_state(name)}")


def check_installed():
    p = run(["/usr/bin/hallgw", "--check-config", "/etc/hallgw/hallgw.conf"], ok=False)
    check(p.returncode == 0 and "OK" in p.stdout,
          f"installed hallgw --check-config: exit {p.returncode}\n{p.stdout}")
    print(f"installed: {p.stdout.strip()}", flush=True)
    for unit in ("hallgw", "hallgw-agent"):
        path = f"/lib/systemd/system/{unit}.service"
        p = run(["systemd-analyze", "verify", path], ok=False)
        check(p.returncode == 0 and not p.stdout.strip(),
              f"systemd-analyze verify {path}: exit {p.returncode}\n{p.stdout}")
        p = run(["systemd-analyze", "security", "--offline=true", "--threshold=20", path],
                ok=False)
        exposure = [l for l in p.stdout.splitlines() if "Overall exposure level" in l]
        check(p.returncode == 0, f"systemd-analyze security {path}: exit {p.returncode}\n"
              + "\n".join(exposure))
        print(f"installed {unit}.service: verify clean; {exposure[0].strip() if exposure else ''}",
              flush=True)
    if shutil.which("systemd-sysusers"):
        check(user_exists("hallgw"), "postinst did not make the hallgw system user")
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "hallgw"]).stdout
    check("/etc/hallgw/hallgw.conf" in conffiles, f"dpkg's conffiles of hallgw: {conffiles}")


def check_upgrade(debs_new):
    conf = "/etc/hallgw/hallgw.conf"
    with open(conf) as f:
        text = f.read()
    check('id = "gw-1";' in text, f'{conf} has no id = "gw-1"')
    with open(conf, "w") as f:
        f.write(text.replace('id = "gw-1";', 'id = "gw-local-edit";', 1))
    want = deb_field(debs_new["hallgw"], "Version")
    p = dpkg("-i", debs_new["hallgw"], debs_new["hallgw-agent"])
    check(p.returncode == 0, f"upgrade to {want}: dpkg -i exited {p.returncode}\n{p.stdout}")
    got = package_state("hallgw")
    check(got.endswith(" " + want), f"after the upgrade hallgw is {got!r}, not {want}")
    with open(conf) as f:
        check('id = "gw-local-edit";' in f.read(), f"the upgrade lost the local edit of {conf}")
    run(["/usr/bin/hallgw", "--check-config", conf])
    print(f"upgrade to {want}: the local edit of {conf} survived", flush=True)


def check_remove_purge():
    # The state directory the service would have made: kept on remove,
    # deleted on purge.
    os.makedirs("/var/lib/hallgw", exist_ok=True)
    with open("/var/lib/hallgw/hallgw.db", "w") as f:
        f.write("state")
    p = dpkg("--remove", "hallgw-agent", "hallgw")
    check(p.returncode == 0, f"dpkg --remove: {p.stdout}")
    check(not os.path.exists("/usr/bin/hallgw"), "/usr/bin/hallgw is left after remove")
    check(os.path.exists("/etc/hallgw/hallgw.conf"), "remove deleted the conffile")
    check(os.path.exists("/var/lib/hallgw/hallgw.db"), "remove deleted the state directory")
    purge()
    for path in ("/usr/bin/hallgw", "/usr/bin/hallgw-agent", "/etc/hallgw/hallgw.conf",
                 "/etc/hallgw/agent.conf", "/lib/systemd/system/hallgw.service",
                 "/var/lib/hallgw"):
        check(not os.path.lexists(path), f"{path} is left after purge")
    print("remove kept the conffiles and state; purge deleted them", flush=True)


def purge():
    p = dpkg("--purge", "hallgw-agent", "hallgw")
    for name in PACKAGES:
        check(not installed(name) and "config-files" not in package_state(name),
              f"{name} is still there after purge: {package_state(name)}\n{p.stdout}")


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def main():
    for tool in ("dpkg", "dpkg-deb", "dpkg-shlibdeps"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not found (dpkg-dev)")
            return SKIP
    debs = build_debs("")
    check_contents(debs)

    if os.geteuid() != 0:
        print("not root: checked the packages' contents only, nothing installed")
        return 0
    reason = refuse_reason()
    if reason:
        print(f"SKIP: will not install on this machine: {reason}")
        return SKIP

    had_user = user_exists("hallgw")
    try:
        install(debs)
        check_installed()
        check_upgrade(build_debs("2"))
        check_remove_purge()
        build_debs("")  # leave the packages of this version, not the test's revision
    finally:
        dpkg("--purge", "hallgw-agent", "hallgw")
        if not had_user and user_exists("hallgw"):
            run(["userdel", "hallgw"], ok=False)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
