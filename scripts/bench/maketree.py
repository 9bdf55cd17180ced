#!/usr/bin/env python3
"""Writes a deterministic tree of FILES files for scripts/bench.sh (untar and copy workloads, fsck fill).

Names are short lowercase ASCII so that every layout (FAT included) stores them unchanged. Sizes
follow a source-tree-like mix: mostly small files, a few large ones. Prints files, dirs and bytes.
"""
import argparse
import os
import random


def size_for(rng):
    roll = rng.random()
    if roll < 0.60:
        return rng.randrange(0, 4096)
    if roll < 0.90:
        return rng.randrange(4096, 32768)
    if roll < 0.99:
        return rng.randrange(32768, 131072)
    return rng.randrange(131072, 1048576)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("files", type=int)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--per-dir", type=int, default=40, help="files per directory")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    # Content comes from one random pool so that writing stays cheap next to the file system's cost.
    pool = rng.randbytes(2 << 20)
    os.makedirs(args.directory, exist_ok=True)
    dirs = [args.directory]
    made_dirs = 0
    total = 0
    for i in range(args.files):
        if i % args.per_dir == 0 and i:
            # Nest up to three levels below a random existing directory.
            parent = rng.choice([d for d in dirs if d.count(os.sep) - args.directory.count(os.sep) < 3])
            new = os.path.join(parent, "d%04d" % made_dirs)
            os.mkdir(new)
            dirs.append(new)
            made_dirs += 1
        size = size_for(rng)
        offset = rng.randrange(0, len(pool) - size + 1)
        with open(os.path.join(dirs[-1], "f%05d.dat" % i), "wb") as f:
            f.write(pool[offset:offset + size])
        total += size
    print("%d %d %d" % (args.files, made_dirs, total))


if __name__ == "__main__":
    main()
