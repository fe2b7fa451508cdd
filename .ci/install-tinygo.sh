#!/usr/bin/env bash
# Install TinyGo for edgekit's Cortex-M tests: build it from the Go module
# proxy against Debian 12's LLVM 19 and write target files for QEMU's
# lm3s6965evb board (Cortex-M3/M4/M7) that link Debian's picolibc and libgcc.
#
# Why build: the stock Cortex-M targets need picolibc and compiler-rt sources
# that TinyGo keeps in git submodules, which its module zip lacks; Debian ships
# both prebuilt, so target files that point at them are all we need.
#
# Usage (as root):  PREFIX=/opt/tinygo bash .ci/install-tinygo.sh
# Result: $PREFIX/bin/tinygo (TINYGOROOT is auto-detected as $PREFIX) and
#         $PREFIX/targets-debian/cortex-m{3,4,7}-qemu.json, used as
#         tinygo test -target=$PREFIX/targets-debian/cortex-m4-qemu.json ./pkg
# Idempotent: apt runs only for missing packages, and TinyGo is rebuilt only
# when $PREFIX lacks a complete install of TINYGO_VERSION built for LLVM.
set -euo pipefail

TINYGO_VERSION=${TINYGO_VERSION:-v0.41.1} # supports Go 1.19..1.26 and LLVM 15..20
LLVM=${LLVM:-19}                          # Debian 12's newest LLVM
PREFIX=${PREFIX:-/opt/tinygo}

log() { echo "install-tinygo: $*"; }

# ---- Debian packages --------------------------------------------------------
pkgs=(llvm-$LLVM-dev libclang-$LLVM-dev clang-$LLVM lld-$LLVM
      picolibc-arm-none-eabi gcc-arm-none-eabi qemu-system-arm)
missing=()
for p in "${pkgs[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${st:0:2}" = ii ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null
fi

# ---- TinyGo itself ------------------------------------------------------------
# The stamp is written last, so an interrupted install is redone, not reused.
stamp="$PREFIX/.edgekit-install"
want="tinygo $TINYGO_VERSION llvm$LLVM $(go env GOVERSION)"
if [ -x "$PREFIX/bin/tinygo" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  log "reusing $PREFIX ($want)"
else
  log "building $want into $PREFIX"
  # `go install github.com/tinygo-org/tinygo@VERSION` needs the module's
  # version list for its deprecation check, which the proxy may refuse; a
  # plain download of the exact version is enough. Run outside any module.
  dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "github.com/tinygo-org/tinygo@$TINYGO_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || { log "could not download tinygo $TINYGO_VERSION"; exit 1; }
  rm -f "$stamp"
  mkdir -p "$PREFIX/bin"
  (cd "$dir" && go build -tags="llvm$LLVM" -o "$PREFIX/bin/tinygo.new" . && mv "$PREFIX/bin/tinygo.new" "$PREFIX/bin/tinygo")
  rm -rf "$PREFIX/src" "$PREFIX/targets" "$PREFIX/lib"
  cp -r "$dir/src" "$dir/targets" "$dir/lib" "$PREFIX/"
  chmod -R u+w "$PREFIX"
  # src/net is a git submodule (tinygo-org/net) absent from the module zip. An
  # empty directory lets everything but `import "net"` build (net/netip works).
  mkdir -p "$PREFIX/src/net"
  echo "$want" >"$stamp"
fi

# ---- target files -------------------------------------------------------------
out="$PREFIX/targets-debian"
mkdir -p "$out"
feat() { sed -n 's/.*"features": *"\([^"]*\)".*/\1/p' "$PREFIX/targets/$1.json"; }
triple() { sed -n 's/.*"llvm-target": *"\([^"]*\)".*/\1/p' "$PREFIX/targets/$1.json"; }
mk_cortexm() { # $1=cpu (cortex-m3|m4|m7) $2=gcc -march
  local cpu=$1 march=$2 libc libgcc gcc=(arm-none-eabi-gcc -mthumb -march="$2" -mfloat-abi=soft)
  libgcc=$("${gcc[@]}" -print-libgcc-file-name)
  libc=/usr/lib/picolibc/arm-none-eabi/lib/$("${gcc[@]}" -print-multi-directory)/libc.a
  [ -f "$libc" ] && [ -f "$libgcc" ] || { log "missing $libc or $libgcc"; exit 1; }
  cat >"$out/$cpu-qemu.json.new" <<JSON
{
	"build-tags": ["cortexm", "baremetal", "linux", "arm", "qemu", "lm3s6965"],
	"goos": "linux",
	"goarch": "arm",
	"gc": "conservative",
	"scheduler": "tasks",
	"linker": "ld.lld",
	"rtlib": "",
	"libc": "",
	"automatic-stack-size": false,
	"default-stack-size": 4096,
	"llvm-target": "$(triple "$cpu")",
	"cpu": "$cpu",
	"features": "$(feat "$cpu")",
	"cflags": ["-Werror", "-fshort-enums", "-fomit-frame-pointer", "-mfloat-abi=soft",
		"-fno-exceptions", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
		"-ffunction-sections", "-fdata-sections"],
	"ldflags": ["--emit-relocs", "--gc-sections", "$libc", "$libgcc",
		"--defsym=__aeabi_unwind_cpp_pr0=0", "--defsym=__aeabi_unwind_cpp_pr1=0",
		"--defsym=__aeabi_unwind_cpp_pr2=0"],
	"linkerscript": "targets/lm3s6965.ld",
	"extra-files": ["src/device/arm/cortexm.S", "src/internal/task/task_stack_cortexm.S",
		"src/runtime/asm_arm.S", "targets/cortex-m-qemu.s"],
	"emulator": "qemu-system-arm -machine lm3s6965evb -cpu $cpu -semihosting -nographic -kernel {}"
}
JSON
  mv "$out/$cpu-qemu.json.new" "$out/$cpu-qemu.json"
}
mk_cortexm cortex-m3 armv7-m
mk_cortexm cortex-m4 armv7e-m
mk_cortexm cortex-m7 armv7e-m

"$PREFIX/bin/tinygo" version
