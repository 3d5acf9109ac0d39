#!/usr/bin/env bash
# Installs what syncagent needs to build, test and demo, from Debian's packages, when it is missing.
# Safe to run again: it does nothing when everything is there.
set -euo pipefail

packages=(pkg-config libgit2-dev libyaml-dev libcurl4-openssl-dev zlib1g-dev git curl openssl prometheus
          openssh-client openssh-server nghttp2-server python3 gnupg prometheus-alertmanager ${EXTRA_PACKAGES:-})
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}"
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The prometheus and openssh-server packages may start system services on install; our tests start their own on
# free loopback ports and need neither.
for service in prometheus prometheus-alertmanager ssh; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        systemctl stop "$service" || true
    fi
done

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: the Swift toolchain (swift 6.x) is not on PATH; it is part of the machine image" >&2
    exit 1
fi
if ! command -v kubectl >/dev/null 2>&1; then
    # Debian's archive has no kubectl; the machine image brings it. The tests drive kubectl as the referee, so
    # `make test` stops here rather than run without it.
    if [ "${REQUIRE_TEST_TOOLS:-0}" = 1 ]; then
        echo "install-deps: kubectl is not on PATH and the tests need it (kubesim's referee); install kubectl" >&2
        exit 1
    fi
    echo "install-deps: WARNING: kubectl is not on PATH; the demo's kubectl steps and the tests need it" >&2
fi
