#!/usr/bin/env bash
# Installs the Debian packages hallgw needs for a purpose: build, demo or test.
# Installs nothing when everything is already there. Needs root (or sudo).
set -euo pipefail

# build: compile the three programs and the bench tools (cmake -S . -B build).
build_pkgs=(build-essential cmake pkg-config libpaho-mqtt-dev libconfig-dev
            libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev libyajl-dev
            libssl-dev libsystemd-dev libcrypt-dev zlib1g-dev)
# The servers the demo and the integration tests start on loopback, and the
# clients the demo's hints use (influx, mosquitto_sub, curl).
server_pkgs=(mosquitto mosquitto-clients influxdb influxdb-client curl)
# test: the unit tests (cmocka; aiosmtpd as a real SMTP server for the e-mail
# route), the integration tests (python3 with paho),
# the web page tests (chromium), systemd-analyze for the units, openssl for
# the TLS tests and hall-provision, clang and its sanitizer runtime for the
# fuzz targets, file and dpkg-dev for the package test, groff for the manual
# pages' check.
test_pkgs=(libcmocka-dev python3 python3-paho-mqtt python3-aiosmtpd chromium systemd openssl
           clang libclang-rt-14-dev file dpkg-dev groff-base)

usage() {
    echo "usage: scripts/deps.sh build|demo|test"
    echo "  build  what cmake needs to build hallgw, hallgw-agent, hallgw-sim and bench/"
    echo "  demo   build, and the mosquitto and influxd servers ./run-demo starts"
    echo "  test   demo, and what ./run-tests needs (cmocka, python3-paho-mqtt, chromium, clang, ...)"
}

case "${1:-}" in
-h | --help)
    usage
    exit 0
    ;;
build) want=("${build_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${server_pkgs[@]}" "${test_pkgs[@]}") ;;
demo) want=("${build_pkgs[@]}" "${server_pkgs[@]}") ;;
*)
    echo "deps: ${1:+unknown set '$1'; }say which packages to install" >&2
    usage >&2
    exit 2
    ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged servers must not hold the ports or data the tests and the demo use.
for svc in mosquitto influxdb; do
    if [[ " ${missing[*]} " == *" $svc "* ]] && command -v systemctl >/dev/null &&
        systemctl is-active --quiet "$svc" 2>/dev/null; then
        $sudo systemctl stop "$svc" || true
        $sudo systemctl disable "$svc" >/dev/null 2>&1 || true
    fi
done
