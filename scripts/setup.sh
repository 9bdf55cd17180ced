#!/usr/bin/env bash
# Prepares a machine for MountFs: the system tools tests compare against, FUSE and loop devices,
# a restored and built solution, and `mountfs` on the PATH. Safe to run again.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$repo"

# gcc and libc6-dev link the native (AOT) mountfs; clang would do too.
packages=(fuse3 e2fsprogs dosfstools mtools fuse2fs fusefat fio fdisk gdisk gcc libc6-dev)
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "setup: system packages present"
fi

# Kernel pieces the mount and interop tests use; containers may not allow loading them, which is fine.
as_root modprobe fuse 2>/dev/null || true
as_root modprobe loop 2>/dev/null || true
[[ -e /dev/fuse ]] || echo "setup: note: /dev/fuse is absent; FUSE tests will be skipped"
# Users mount through fusermount3, which opens /dev/fuse as themselves: distributions make it 0666 (the
# fuse3 udev rule); machines without udev leave the kernel's 0600, so set what the rule would.
if [[ -c /dev/fuse && "$(stat -c %a /dev/fuse)" != 666 ]]; then
    as_root chmod 0666 /dev/fuse && echo "setup: /dev/fuse made 0666, as fuse3's udev rule does, for mounts by users"
fi

echo "setup: restoring and building"
dotnet restore MountFs.sln -v q
dotnet build MountFs.sln -c Release --no-restore -v q -nologo

# The tool on the PATH is a native (ahead-of-time compiled) executable: a JIT start-up costs more than a
# whole mkfs. The AOT linker is clang or, failing that, gcc. scripts/mountfs runs it while it is newer than
# every source and otherwise falls back to the JIT build, which it rebuilds on demand.
echo "setup: publishing the native mountfs (about a minute)"
if ! "$repo/scripts/mountfs" --publish-native; then
    echo "setup: note: native publish failed; mountfs will run as a JIT build"
fi
"$repo/scripts/mountfs" --version >/dev/null
if [[ -w /usr/local/bin ]]; then
    ln -sfn "$repo/scripts/mountfs" /usr/local/bin/mountfs
    echo "setup: mountfs -> /usr/local/bin/mountfs"
else
    echo "setup: note: cannot write /usr/local/bin; run $repo/scripts/mountfs directly"
fi
echo "setup: done"
