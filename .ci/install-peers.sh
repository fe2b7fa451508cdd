#!/usr/bin/env bash
# Install the Debian packages edgekit's tests and CI use: the real protocol
# peers (mosquitto, libcoap), the MQTT command-line clients and qemu-user for
# running 32- and 64-bit ARM test binaries. Idempotent: it asks apt only for
# what is missing, and runs `apt-get update` at most once, only then.
#
# Usage (as root): bash .ci/install-peers.sh [extra-package ...]
set -euo pipefail

pkgs=(
  mosquitto          # MQTT broker peer (internal/testutil.StartMosquitto)
  mosquitto-clients  # mosquitto_pub / mosquitto_sub / mosquitto_rr
  python3-paho-mqtt  # a second, independent MQTT client (mqtt captures, broker interop)
  libcoap3-bin       # coap-server-notls / coap-client-notls and the DTLS builds
  qemu-user-static   # qemu-arm-static / qemu-aarch64-static for go test -exec
  qemu-system-arm    # the Cortex-M firmware example runs in qemu-system-arm
  chromium           # headless browser for the gateway's status page test
  # blemesh/hci's TestBlueZGuest boots a Debian kernel with Bluetooth in
  # QEMU and runs btvirt there (the host kernel has no Bluetooth).
  qemu-system-x86 busybox-static cpio kmod bluez bluez-meshd bluez-test-tools dbus
  "$@"
)

missing=()
for p in "${pkgs[@]}"; do
  # dpkg -s succeeds for removed-but-configured packages too; check the status.
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${st:0:2}" = ii ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present (${pkgs[*]})"
  exit 0
fi

echo "install-peers: installing ${missing[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
