#!/usr/bin/env python3
"""Turns scripts/bench.sh's results (TSV: group, subject, figure, value, unit, note) into Markdown tables.

Every ratio is a speed ratio, ours against the peer, so that > 1 always means mountfs is faster:
rates are divided (ours / peer), durations inverted (peer / ours). Peak memory has no ratio.
"""
import sys
from collections import OrderedDict

OURS = "mountfs"

# group -> (title, peers in column order)
GROUPS = OrderedDict([
    ("memory", ("FUSE layer alone: `mountfs mount -t memory` vs tmpfs (caches kept warm: tmpfs has nothing else to read from)", ["tmpfs"])),
    ("ext2", ("a fresh mke2fs image each, mounted by mountfs, the kernel (loop) and fuse2fs (page cache dropped before reads, stat and list)", ["kernel", "fuse2fs"])),
    ("fat", ("FAT32, a fresh mkfs.fat -F 32 image each, mounted by mountfs and fusefat (page cache dropped before reads, stat and list); mcopy -s for the tree copy", ["fusefat", "mcopy"])),
    ("tools", ("mkfs, fsck -n on a filled image, peak RSS while copying a big file in", ["e2fsprogs"])),
])

FIGURES = OrderedDict([
    ("seqwrite", "seq write 1 MiB"),
    ("seqread", "seq read 1 MiB"),
    ("randread", "rand read 4 KiB"),
    ("randwrite", "rand write 4 KiB"),
    ("create", "create"),
    ("stat", "stat"),
    ("list", "list (readdir)"),
    ("unlink", "unlink"),
    ("untar", "untar tree"),
    ("copytree", "copy tree in"),
    ("mkfs", "mkfs"),
    ("fsck", "fsck -n"),
    ("startup", "tool start-up"),
    ("rss", "peak RSS, big copy"),
    ("bigcopy", "big file copy in"),
])

IO = {"seqwrite", "seqread", "randread", "randwrite", "bigcopy"}
DURATION_UNITS = {"s"}
NO_RATIO = {"rss"}


def target(group, figure, peer):
    """The goal from the issues for ours/peer on this figure, or None."""
    if group == "memory":
        return 0.5
    if group == "ext2":
        if peer == "fuse2fs":
            return 1.0
        return 0.8 if figure in IO else 0.5
    if group == "fat":
        if peer == "mcopy":
            return 1.0
        return 10.0
    if group == "tools" and figure in ("mkfs", "fsck"):
        return 1.0
    return None


def fmt(value):
    if value is None:
        return "—"
    if value >= 100:
        return "{:,.0f}".format(value)
    if value >= 10:
        return "{:.1f}".format(value)
    return "{:.2f}".format(value)


def main():
    rows = OrderedDict()
    for line in open(sys.argv[1], encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 5:
            continue
        group, subject, figure, value, unit = parts[:5]
        note = parts[5] if len(parts) > 5 else ""
        cell = rows.setdefault((group, figure), {"unit": unit, "values": {}, "notes": {}})
        cell["values"][subject] = float(value) if value not in ("", "error") else None
        if note:
            cell["notes"][subject] = note

    misses, checks = [], 0
    out = []
    for group, (title, peers) in GROUPS.items():
        figures = [f for f in FIGURES if (group, f) in rows]
        if not figures:
            continue
        present = [p for p in peers if any(p in rows[(group, f)]["values"] for f in figures)]
        out.append("### %s — %s\n" % (group, title))
        head = ["figure", "unit", OURS] + present + ["%s/%s" % (OURS, p) for p in present] + ["target"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(["---", "---"] + ["---:"] * (1 + 2 * len(present)) + ["---"]) + "|")
        for figure in figures:
            cell = rows[(group, figure)]
            ours = cell["values"].get(OURS)
            line = [FIGURES[figure], cell["unit"], fmt(ours) + mark(cell, OURS)]
            ratios, goals = [], []
            for peer in present:
                value = cell["values"].get(peer)
                line.append(fmt(value) + mark(cell, peer) if peer in cell["values"] else "")
                ratio = None
                if ours and value and figure not in NO_RATIO:
                    ratio = value / ours if cell["unit"] in DURATION_UNITS else ours / value
                ratios.append(fmt(ratio) if ratio is not None else "")
                goal = target(group, figure, peer)
                if goal is not None and peer in cell["values"]:
                    checks += 1
                    if ratio is None or ratio < goal:
                        misses.append("%s %s vs %s: %s (target ≥ %s)" % (group, FIGURES[figure], peer,
                                                                         fmt(ratio) if ratio is not None else "no figure", goal))
                        goals.append("**≥%g vs %s: MISS**" % (goal, peer))
                    else:
                        goals.append("≥%g vs %s ok" % (goal, peer))
            out.append("| " + " | ".join(line + ratios + ["; ".join(goals)]) + " |")
        notes = ["%s, %s: %s" % (s, FIGURES[f], n) for f in figures for s, n in rows[(group, f)]["notes"].items()]
        out.append("")
        for n in notes:
            out.append("- " + n)
        if notes:
            out.append("")
    out.append("### Summary\n")
    out.append("Ratios are speed ratios (> 1: mountfs faster; durations are inverted). "
               "%d of %d targets met." % (checks - len(misses), checks))
    if misses:
        out.append("")
        out.append("Below target:")
        for m in misses:
            out.append("- " + m)
    print("\n".join(out))


def mark(cell, subject):
    """A dagger where the run was cut at its deadline (the rate counts only what was done)."""
    return " †" if "capped" in cell["notes"].get(subject, "") else ""


if __name__ == "__main__":
    main()
