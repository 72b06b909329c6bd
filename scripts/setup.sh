#!/usr/bin/env bash
# Idempotent setup of a fresh Debian/Ubuntu machine: system packages, a virtual environment in
# .venv and the project installed into it. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# swig + libpcsclite-dev: pyscard has no Linux wheel and builds from source.
# pcscd + vsmartcard-vpcd + opensc + pcsc-tools: the real PC/SC stack the hardware-bridge tests use.
apt_packages=(python3-venv python3-dev build-essential swig libpcsclite-dev pcscd vsmartcard-vpcd opensc pcsc-tools)
# chromium: the dashboard's end-to-end test drives it (Playwright); fonts-wqy-microhei: Chinese labels.
apt_packages+=(chromium fonts-wqy-microhei)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$python" -m venv .venv
fi

# Reinstall only when the declared dependencies change: the stamp holds pyproject.toml's hash.
stamp=.venv/.cardtwin-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing cardtwin and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    echo "$want" > "$stamp"
fi

# The tap path's modules compiled by mypyc (model/native.py): built again only when the sources
# changed since the last build (about a minute on two cores); CARDTWIN_PURE=1 runs the sources.
.venv/bin/python scripts/build_native.py
