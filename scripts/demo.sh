#!/usr/bin/env bash
# The main job of a fresh checkout: make sure a default image exists and show it.
# Usage: scripts/demo.sh [IMAGE]   (default ./mountfs.img; size from MOUNTFS_DEMO_SIZE, default 256M)
set -euo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
mountfs="$repo/scripts/mountfs"
image="${1:-mountfs.img}"
size="${MOUNTFS_DEMO_SIZE:-256M}"

# The first layout whose mkfs this build has, in order of preference.
default_type() {
    local types
    types="$("$mountfs" mkfs --help)"
    for t in ext2 fat; do
        if grep -q "Known:.*\b$t\b" <<<"$types"; then echo "$t"; return; fi
    done
}

if [[ ! -e "$image" ]]; then
    type="$(default_type)"
    if [[ -n "$type" ]] && "$mountfs" mkfs -t "$type" "$image" "$size"; then
        echo "demo: created $image ($type, $size)"
    else
        # No formatter in this build yet: a sparse image still shows what info reports.
        truncate -s "$size" "$image"
        echo "demo: created an empty sparse $image ($size)"
    fi
fi

"$mountfs" info "$image"
