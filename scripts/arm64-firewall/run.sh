#!/usr/bin/env bash
# The arm64 firewall, for real: boots Debian's arm64 kernel under qemu-system-aarch64 (full
# system emulation, so nftables talks to a real arm64 kernel, which QEMU's user mode cannot
# give it), with a small initramfs holding Debian's arm64 nft, conntrack and busybox, and
# loads there the table of every shipped policy (labs/policies/*.yaml) for every workload and
# for the perimeter router, as MicroLab's compiler writes them on this host. Each table is
# listed back and its rules (by their comments, in order) compared with the file; a conntrack
# entry is created and deleted as a policy change cuts a connection. One line per policy:
#
#   PASS microservices-segmented: 14 tables loaded and listed back (13 workloads, router)
#
# Usage: bash scripts/arm64-firewall/run.sh   (from the repository, after `npm ci`)
# Needs: Debian or Ubuntu with apt (as root it installs qemu-system-arm and cpio itself), the
# Debian package mirror (arm64 packages are fetched with a private apt state, the host's own
# configuration untouched), Node for the compiler. Cache: $MICROLAB_ARM64_CACHE, default
# ~/.cache/microlab/arm64-firewall (about 70 MB). Exit 0 when every policy passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MICROLAB_ARM64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/microlab/arm64-firewall}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
say() { echo "arm64-firewall: $*" >&2; }

# --- the host's tools -------------------------------------------------------------------
missing=()
command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
command -v cpio >/dev/null || missing+=(cpio)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "needs ${missing[*]}: sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 2
  fi
fi

# --- Debian's arm64 packages, with apt state of our own --------------------------------
apt_opts=(
  -o "Dir::State=$cache/apt/state" -o "Dir::State::status=$cache/apt/status"
  -o "Dir::Cache=$cache/apt/cache" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root
)
mkdir -p "$cache/apt/state/lists/partial" "$cache/apt/cache/archives/partial" "$cache/debs"
touch "$cache/apt/status"
if [ -z "$(find "$cache/apt/state/lists" -name '*arm64_Packages*' -mtime -7 2>/dev/null)" ]; then
  say "reading Debian's arm64 package lists"
  apt-get "${apt_opts[@]}" update >/dev/null
fi
kernel_pkg=$(apt-cache "${apt_opts[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$kernel_pkg" ] || { say "cannot find the arm64 kernel package (linux-image-arm64)"; exit 1; }
packages=("$kernel_pkg" nftables libnftables1 libnftnl11 libmnl0 libjansson4 libgmp10 libxtables12
  libedit2 libbsd0 libmd0 libtinfo6 libc6 conntrack libnetfilter-conntrack3 libnfnetlink0 busybox-static)
need=()
for p in "${packages[@]}"; do
  compgen -G "$cache/debs/${p}_*_arm64.deb" >/dev/null || need+=("$p")
done
if ((${#need[@]})); then
  say "downloading ${#need[@]} arm64 packages"
  (cd "$cache/debs" && apt-get "${apt_opts[@]}" download "${need[@]}" >/dev/null)
fi
root=$work/root
mkdir -p "$root"
for p in "${packages[@]}"; do
  deb=$(ls -t "$cache/debs/${p}"_*_arm64.deb | head -1)
  dpkg-deb -x "$deb" "$root"
done
kver=$(ls "$root/lib/modules" | head -1)

# --- the tables, by MicroLab's compiler ------------------------------------------------
esbuild=$repo/node_modules/.bin/esbuild
[ -x "$esbuild" ] || { say "run npm ci first (needs esbuild)"; exit 2; }
"$esbuild" --bundle --platform=node --format=cjs --log-level=warning \
  "$here/compile.ts" --outfile="$work/compile.cjs"
node "$work/compile.cjs" "$repo/labs/policies" "$work/tables" >/dev/null

# --- the initramfs ------------------------------------------------------------------------
initrd=$work/initrd
mkdir -p "$initrd"/{bin,sbin,usr/sbin,proc,sys,dev,tmp,etc,lib,usr/lib}
cp "$root/bin/busybox" "$initrd/bin/busybox"
ln -s /bin/busybox "$initrd/sbin/modprobe"
cp "$root/usr/sbin/nft" "$root/usr/sbin/conntrack" "$initrd/usr/sbin/"
cp -a "$root/lib/aarch64-linux-gnu" "$root/lib/ld-linux-aarch64.so.1" "$initrd/lib/"
cp -a "$root/usr/lib/aarch64-linux-gnu" "$initrd/usr/lib/"
# nf_tables and its modules, loaded on demand by the kernel through busybox's modprobe
mods=$root/lib/modules/$kver
dest=$initrd/lib/modules/$kver
mkdir -p "$dest"
cp "$mods/modules.order" "$mods/modules.builtin" "$dest/"
(cd "$mods" && find kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter \
  kernel/lib/libcrc32c.ko kernel/crypto/crc32c_generic.ko -name '*.ko' -print0 |
  cpio --quiet -0 -pdm "$dest")
cp -a "$work/tables" "$initrd/tables"
cp "$here/init.sh" "$initrd/init"
chmod 755 "$initrd/init"
(cd "$initrd" && find . -print0 | cpio --quiet -0 -o -H newc | gzip -1 >"$work/initrd.gz")
say "initramfs $(du -h "$work/initrd.gz" | cut -f1), kernel $kver; booting (full emulation, one core)"

# --- boot -----------------------------------------------------------------------------------
booted=$(date +%s)
timeout 900 qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512 -smp 1 -nographic -no-reboot -nic none \
  -kernel "$root/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
  -append "console=ttyAMA0 rdinit=/init panic=-1 quiet loglevel=3" </dev/null >"$work/console" 2>&1 || true
tr -d '\r' <"$work/console" | grep -E '^(PASS|FAIL|arm64-firewall:)' || true
done=$(date +%s)
say "boot and checks $((done - booted)) s, all $((done - started)) s"
if ! grep -q '^arm64-firewall: every policy passed' "$work/console"; then
  say "not every policy passed; the console's last lines:"
  tr -d '\r' <"$work/console" | tail -20 >&2
  exit 1
fi
