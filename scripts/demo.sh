#!/usr/bin/env bash
# The main job of a fresh checkout: mount the default image, making it first if it is absent.
# Usage: scripts/demo.sh [IMAGE [MOUNTPOINT]]
#   default IMAGE ./mountfs.img (ext2, size MOUNTFS_DEMO_SIZE, default 256M), default MOUNTPOINT ./mnt.
# The mount runs in the background; `scripts/mountfs unmount MOUNTPOINT` ends it and leaves the image clean.
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
mountfs="$repo/scripts/mountfs"
image="${1:-mountfs.img}"
mountpoint="${2:-mnt}"
size="${MOUNTFS_DEMO_SIZE:-256M}"

if [[ ! -e "$image" ]]; then
    "$mountfs" mkfs -t ext2 -L mountfs "$image" "$size"
fi
"$mountfs" info "$image"

mkdir -p "$mountpoint"
if mountpoint -q "$mountpoint"; then
    echo "demo: $mountpoint is already mounted"
else
    "$mountfs" mount "$image" "$mountpoint"
fi
findmnt -n -o SOURCE,TARGET,FSTYPE,OPTIONS "$(readlink -f "$mountpoint")"
df -h "$mountpoint"
echo "demo: $image is mounted at $mountpoint; unmount with: scripts/mountfs unmount $mountpoint"
