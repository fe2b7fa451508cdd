#!/usr/bin/env bash
# Boot a throw-away Debian-kernel guest (QEMU TCG; nested KVM fails on this Firecracker host with
# "failed to set MSR 0x10a") that has what the host kernel lacks: CONFIG_BT, hci_vhci, AF_ALG.
# The host root is shared read-only over 9p; the guest gets tmpfs on /tmp, /run, /var/lib.
# Usage: bluez-guest.sh /abs/path/to/script.sh   (run inside the guest, chrooted into the host root)
# Measured here: ~20 s wall, ~350 MB RSS for boot + btvirt + mesh-cfgtest (5/5 pass).
# Copied from the project's shared bluez-vm tool for blemesh/hci's TestBlueZGuest; the only change: it never
# installs packages (exit status 3 with a message instead), so that tests do not run apt. Install once with
#   apt-get install -y --no-install-recommends qemu-system-x86 busybox-static cpio kmod bluez bluez-meshd bluez-test-tools dbus
# The first run downloads the Debian kernel package (apt-get download) into $BLUEZ_GUEST_CACHE.
set -euo pipefail
RUN=${1:?usage: bluez-guest.sh /abs/path/script.sh}
CACHE=${BLUEZ_GUEST_CACHE:-/tmp/bluez-guest}
mkdir -p "$CACHE"
need=(qemu-system-x86 busybox-static cpio kmod bluez bluez-meshd bluez-test-tools dbus)
if ! dpkg -s "${need[@]}" >/dev/null 2>&1; then echo "bluez-guest: missing packages: ${need[*]}" >&2; exit 3; fi
if [ ! -f "$CACHE/initrd.cpio.gz" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  (cd "$CACHE" && apt-get download "$pkg" && rm -rf k && mkdir k && dpkg -x "$pkg"_*.deb k)
  KV=$(ls "$CACHE/k/lib/modules"); depmod -b "$CACHE/k" "$KV"
  cp "$CACHE"/k/boot/vmlinuz-* "$CACHE/vmlinuz"
  rm -rf "$CACHE/ir" && mkdir -p "$CACHE"/ir/{bin,proc,sys,dev,host,lib/modules}
  cp /usr/bin/busybox "$CACHE/ir/bin/"
  python3 - "$CACHE/k/lib/modules/$KV" "$CACHE/ir" <<'PY'
import sys, shutil
K, IR = sys.argv[1], sys.argv[2]
dep = {}
for line in open(K + '/modules.dep'):
    m, _, d = line.partition(':'); dep[m.strip()] = d.split()
by = {m.split('/')[-1].split('.ko')[0]: m for m in dep}
order = []
def add(m):
    for d in dep[m]: add(d)
    if m not in order: order.append(m)
for w in ['virtio_pci', '9pnet_virtio', '9p', 'bluetooth', 'hci_vhci', 'algif_aead', 'algif_skcipher',
          'algif_hash', 'ccm', 'cmac', 'ecb', 'ecdh_generic', 'ctr']:
    add(by[w])
for m in order: shutil.copy(K + '/' + m, IR + '/lib/modules/')
open(IR + '/modorder.txt', 'w').write('\n'.join(m.split('/')[-1] for m in order) + '\n')
PY
  cat > "$CACHE/ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /modorder.txt); do insmod /lib/modules/$m 2>/dev/null; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host
mount -t proc proc /host/proc; mount -o bind /sys /host/sys; mount -o bind /dev /host/dev
for d in run tmp var/lib; do mount -t tmpfs tmpfs /host/$d; done
RUN=$(sed -n 's/.*edgekit.run=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "== guest $(uname -r): running $RUN"
chroot /host /bin/sh "$RUN"; echo "== guest exit status $?"
poweroff -f
INIT
  chmod +x "$CACHE/ir/init"
  (cd "$CACHE/ir" && find . | cpio -o -H newc 2>/dev/null | gzip > "$CACHE/initrd.cpio.gz")
fi
exec qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1536 -smp 2 -nographic -no-reboot -nic none \
  -kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.cpio.gz" \
  -append "console=ttyS0 panic=-1 loglevel=3 edgekit.run=$RUN" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
