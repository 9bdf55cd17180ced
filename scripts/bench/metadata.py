#!/usr/bin/env python3
"""Metadata workload for scripts/bench.sh: create, stat, list and unlink N empty files in one directory.

Each phase is timed inside this process (a shell loop would measure fork/exec, not the file system).
A phase stops at its deadline so that very slow peers (fusefat) still finish; its rate then counts
only the operations done, and later phases work on the files that exist. Prints one JSON object.
"""
import argparse
import json
import os
import time


def drop_caches():
    """Cold caches: the kernel forgets dentries and inodes, so stat and readdir reach the file system."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(names, op, deadline):
    start = time.perf_counter()
    stop = start + deadline
    done = 0
    for name in names:
        op(name)
        done += 1
        # Checking the clock every few operations keeps its cost out of the figure.
        if done % 32 == 0 and time.perf_counter() > stop:
            break
    elapsed = time.perf_counter() - start
    return done, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("count", type=int)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds at most per phase")
    parser.add_argument("--list-repeats", type=int, default=10)
    parser.add_argument("--no-drop", action="store_true", help="do not drop caches before stat and list")
    parser.add_argument("--subdir", default="meta", help="directory made for the files (must not exist)")
    args = parser.parse_args()

    work = os.path.join(args.directory, args.subdir)
    os.mkdir(work)
    names = [os.path.join(work, "f%06d" % i) for i in range(args.count)]
    result = {"count": args.count, "capped": []}

    def create(path):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))

    done, elapsed = timed(names, create, args.deadline)
    result["create"] = done / elapsed
    if done < len(names):
        result["capped"].append("create")
    names = names[:done]

    dropped = not args.no_drop and drop_caches()
    result["cold"] = dropped
    done, elapsed = timed(names, os.stat, args.deadline)
    result["stat"] = done / elapsed
    if done < len(names):
        result["capped"].append("stat")

    if not args.no_drop:
        drop_caches()
    entries = 0
    start = time.perf_counter()
    for _ in range(args.list_repeats):
        listed = os.listdir(work)
        if len(listed) != len(names):
            raise SystemExit("listdir returned %d entries, expected %d" % (len(listed), len(names)))
        entries += len(listed)
        if time.perf_counter() - start > args.deadline:
            result["capped"].append("list")
            break
    result["list"] = entries / (time.perf_counter() - start)

    done, elapsed = timed(names, os.unlink, args.deadline)
    result["unlink"] = done / elapsed
    if done < len(names):
        result["capped"].append("unlink")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
