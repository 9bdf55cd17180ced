#!/usr/bin/env bash
# The main job of a fresh checkout: make sure a default image exists and show it.
# Usage: scripts/demo.sh [IMAGE]   (default ./mountfs.img; size from MOUNTFS_DEMO_SIZE, default 256M)
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
mountfs="$repo/scripts/mountfs"
image="${1:-mountfs.img}"
size="${MOUNTFS_DEMO_SIZE:-256M}"

if [[ ! -e "$image" ]]; then
    created=""
    # The default layout is ext2; FAT if this build cannot make ext2.
    for type in ext2 fat; do
        if "$mountfs" mkfs -t "$type" "$image" "$size"; then
            created="$type"
            break
        fi
    done
    if [[ -z "$created" ]]; then
        # No formatter works in this build: a sparse image still shows what info reports.
        truncate -s "$size" "$image"
        echo "demo: created an empty sparse $image ($size)"
    fi
fi

"$mountfs" info "$image"
