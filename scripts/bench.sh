#!/usr/bin/env bash
# Benchmarks mountfs against its peers on this machine, in one run, and prints figures and speed
# ratios (mountfs / peer; > 1 means mountfs is faster) as Markdown tables. See docs/bench.md.
#
#   scripts/bench.sh [--quick] [--groups memory,ext2,fat,tools] [--ours-options OPTS] [--keep-results FILE]
#
# Groups: memory (our FUSE layer over the in-memory layout vs tmpfs), ext2 (mountfs vs the kernel over
# a loop device vs fuse2fs, each on a fresh mke2fs image), fat (mountfs vs fusefat on a fresh
# mkfs.fat -F 32 image, and a tree copied in vs mcopy -s), tools (mkfs and fsck -n vs e2fsprogs on a
# filled image, peak RSS of our mount while a big file is copied in).
# Needs root (mount, loop devices, drop_caches). Everything happens inside one temporary directory;
# everything mounted is unmounted on exit, failure or Ctrl-C.
set -uo pipefail

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

quick=0
groups="memory,ext2,fat,tools"
ours_options=""
keep_results=""
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --groups | -g) groups="${2:?--groups needs a list}"; shift ;;
        --groups=*) groups="${1#*=}" ;;
        --ours-options) ours_options="${2:?--ours-options needs options}"; shift ;;
        --ours-options=*) ours_options="${1#*=}" ;;
        --keep-results) keep_results="${2:?--keep-results needs a file}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
for g in ${groups//,/ }; do
    case "$g" in memory | ext2 | fat | tools) ;; *) echo "bench: unknown group '$g' (memory, ext2, fat, tools)" >&2; exit 2 ;; esac
done
want() { [[ ",$groups," == *",$1,"* ]]; }

repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
helpers="$repo/scripts/bench"

if ((quick)); then
    file_mb=32 runtime=2 seq_cap=15 meta_files=1000 meta_cap=5 tree_files=300 image_mb=256
    step_cap=30 fsck_mb=256 fsck_files=2000 big_mb=128 big_image_mb=256
else
    file_mb=256 runtime=10 seq_cap=30 meta_files=5000 meta_cap=15 tree_files=2000 image_mb=1024
    step_cap=45 fsck_mb=1024 fsck_files=20000 big_mb=1024 big_image_mb=1536
fi

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root: the bench mounts (tmpfs, loop devices, FUSE) and drops the page cache"
need=(fio python3 mke2fs e2fsck dotnet timeout)
want ext2 && need+=(fuse2fs)
want fat && need+=(fusefat mkfs.fat mcopy fsck.fat)
for t in "${need[@]}"; do command -v "$t" >/dev/null || die "missing tool '$t' (run scripts/setup.sh)"; done
[[ -e /dev/fuse ]] || die "/dev/fuse is absent"

work="$(mktemp -d "${TMPDIR:-/tmp}/mountfs-bench.XXXXXX")" || die "cannot create a temporary directory"
results="$work/results.tsv"
: >"$results"
mounted=()           # mount points in mounting order
declare -A daemon=() # mount point -> pid of the FUSE server this script started

# Unmounts whatever is still mounted (FUSE servers first get a normal unmount, so they flush and exit),
# then removes the temporary directory only if nothing is mounted below it any more.
cleanup() {
    local status=$? i mnt pid
    trap - EXIT INT TERM
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        mnt="${mounted[i]}"
        [[ -n "$mnt" ]] || continue
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
        pid="${daemon[$mnt]:-}"
        [[ -n "$pid" ]] && wait_exit "$pid" 30
    done
    if grep -q " $work/" /proc/mounts; then
        log "warning: something is still mounted below $work; leaving it in place"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }

# Waits up to SECONDS for a process this script started to exit; then signals it (by pid only).
wait_exit() {
    # Polled every 5 ms: a FUSE server exits a few ms after umount returns, and the copy-tree figure
    # is timed until it has (a 0.1 s poll added up to 0.1 s to every FUSE subject's time).
    local pid="$1" seconds="$2" t=0
    while kill -0 "$pid" 2>/dev/null && ((t < seconds * 200)); do sleep 0.005; t=$((t + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
        log "process $pid still running after ${seconds}s; sending SIGTERM"
        kill -TERM "$pid" 2>/dev/null
        sleep 2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

# tmpfs keeps its pages and dentries as its storage, so in the memory group nothing is dropped
# (dropping, or fio's default fadvise(DONTNEED) before each job, would empty only our side's kernel
# caches); the groups with images start reads cold.
cold=1
drop_caches() {
    ((cold)) || return 0
    sync
    echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
}

note() { printf '%s\n' "$*" >>"$work/notes.txt"; log "note: $*"; }

record() { # GROUP SUBJECT FIGURE VALUE UNIT [NOTE]
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$results"
    log "  $2 $3: $4 $5${6:+ ($6)}"
}

# The tool is built once (scripts/mountfs rebuilds when sources changed) and run from a private
# copy, so that a rebuild started by someone else during the run cannot change what is measured.
build_tool() {
    local folder="${MOUNTFS_BENCH_TOOL:-}"
    if [[ -z "$folder" ]]; then
        # The native (ahead-of-time compiled) tool is what scripts/setup.sh installs, so it is what users
        # run; --ensure-native republishes it only when a source is newer. MOUNTFS_BENCH_JIT=1 measures the
        # JIT build instead.
        if [[ "${MOUNTFS_BENCH_JIT:-0}" != 1 ]]; then
            log "publishing the native mountfs through scripts/mountfs --ensure-native"
            folder="$("$repo/scripts/mountfs" --ensure-native)" || die "cannot publish the native mountfs"
        else
            log "building mountfs (Release, JIT) through scripts/mountfs"
            "$repo/scripts/mountfs" --version >/dev/null || die "cannot build mountfs"
            folder="$repo/artifacts/mountfs"
        fi
    fi
    # A copy of the whole folder (the native tool needs libMono.Unix.so beside it).
    cp -a "$folder" "$work/tool" || die "cannot copy $folder"
    if [[ -f "$work/tool/mountfs.dll" ]]; then
        mountfs=(dotnet "$work/tool/mountfs.dll")
        tool_build=JIT
    else
        mountfs=("$work/tool/mountfs")
        tool_build=native
    fi
    tool_version="$("${mountfs[@]}" --version)"
}

new_mountpoint() { # NAME -> prints a fresh empty directory
    local dir="$work/mnt/$1"
    mkdir -p "$dir"
    printf '%s\n' "$dir"
}

# Waits until MOUNTPOINT is live while the server PID runs; fails when the server exits first.
await_mount() {
    local mnt="$1" pid="$2" t=0
    until mountpoint -q "$mnt"; do
        if ! kill -0 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null; return 1; fi
        ((t++ > 1200)) && return 1
        sleep 0.05
    done
}

# Starts a FUSE server in the foreground of a background job so that its pid is known (for RSS,
# strace and waiting until it has flushed and exited after the unmount).
start_fuse() { # MOUNTPOINT LOGNAME COMMAND...
    local mnt="$1" name="$2"
    shift 2
    "$@" >"$work/$name.log" 2>&1 &
    local pid=$!
    mounted+=("$mnt")
    daemon[$mnt]=$pid
    if ! await_mount "$mnt" "$pid"; then
        log "mount failed: $*"
        sed 's/^/    /' "$work/$name.log" >&2
        unmount_subject "$mnt"
        return 1
    fi
    server_pid=$pid
}

mount_subject() { # KIND IMAGE MOUNTPOINT
    local kind="$1" image="$2" mnt="$3" opts=()
    [[ -n "$ours_options" ]] && opts=(-o "$ours_options")
    server_pid=""
    case "$kind" in
        tmpfs) mount -t tmpfs -o "size=$((image_mb * 2))m" bench "$mnt" && mounted+=("$mnt") ;;
        kernel) mount -o loop -t ext2 "$image" "$mnt" && mounted+=("$mnt") ;;
        ours-memory) start_fuse "$mnt" ours-memory "${mountfs[@]}" mount -f -t memory "${opts[@]}" none "$mnt" ;;
        ours-ext2) start_fuse "$mnt" ours-ext2 "${mountfs[@]}" mount -f -t ext2 "${opts[@]}" "$image" "$mnt" ;;
        ours-fat) start_fuse "$mnt" ours-fat "${mountfs[@]}" mount -f -t fat "${opts[@]}" "$image" "$mnt" ;;
        # As root fuse2fs needs no fakeroot; -f keeps it a child of this script.
        fuse2fs) start_fuse "$mnt" fuse2fs fuse2fs -f "$image" "$mnt" ;;
        fusefat) start_fuse "$mnt" fusefat fusefat -f -o rw+ "$image" "$mnt" ;;
        *) die "unknown subject kind $kind" ;;
    esac
}

# Unmounts and, for FUSE servers, waits until the server has exited (it flushes after the unmount).
unmount_subject() { # MOUNTPOINT
    local mnt="$1" i pid
    if mountpoint -q "$mnt"; then
        umount "$mnt" 2>/dev/null || { sleep 1; umount "$mnt"; } || umount -l "$mnt"
    fi
    pid="${daemon[$mnt]:-}"
    [[ -n "$pid" ]] && wait_exit "$pid" 300
    unset "daemon[$mnt]"
    for i in "${!mounted[@]}"; do [[ "${mounted[i]}" == "$mnt" ]] && mounted[i]=""; done
}

make_image() { # ext2|fat PATH SIZE_MB
    rm -f "$2"
    case "$1" in
        ext2) mke2fs -q -F -t ext2 "$2" "${3}M" ;;
        fat) truncate -s "${3}M" "$2" && mkfs.fat -F 32 "$2" >/dev/null ;;
    esac
}

fio_run() { # NAME DIR SIZE_BYTES ARGS... -> prints the JSON file name
    local name="$1" dir="$2" size="$3"
    shift 3
    local out="$work/fio-$name.json"
    timeout $((seq_cap + runtime + 120)) fio --name="$name" --directory="$dir" --filename=bench.dat --ioengine=psync \
        --direct=0 --numjobs=1 --size="$size" --invalidate="$cold" --output-format=json "$@" >"$out" 2>"$work/fio-$name.err"
    printf '%s\n' "$out"
}

fio_value() { # JSON read|write bw|iops
    python3 - "$@" <<'PY'
import json, sys
path, direction, what = sys.argv[1:]
try:
    text = open(path).read()
    job = json.loads(text[text.index("{"):])["jobs"][0]
    if job.get("error"):
        raise ValueError("fio error %d" % job["error"])
    side = job[direction]
    print("%.3f" % (side["bw_bytes"] / 1048576 if what == "bw" else side["iops"]))
except Exception as e:
    print("error")
    print("fio result %s: %s" % (path, e), file=sys.stderr)
PY
}

# The four fio figures. Reads start after the page cache was dropped, so every reader fetches from
# its own storage (for FUSE servers: through the server); the kernel peers then cache as usual.
io_workloads() { # GROUP SUBJECT DIR
    local group="$1" subject="$2" dir="$3" json size tag="$1-$2"
    drop_caches
    json="$(fio_run "$tag-seqwrite" "$dir" "${file_mb}M" --rw=write --bs=1M --end_fsync=1 --runtime="$seq_cap")"
    record "$group" "$subject" seqwrite "$(fio_value "$json" write bw)" MiB/s
    size="$(stat -c %s "$dir/bench.dat" 2>/dev/null || echo 0)"
    ((size > 0)) || { log "no fio file written on $subject"; return 1; }
    drop_caches
    json="$(fio_run "$tag-seqread" "$dir" "$size" --rw=read --bs=1M --runtime="$seq_cap")"
    record "$group" "$subject" seqread "$(fio_value "$json" read bw)" MiB/s
    drop_caches
    json="$(fio_run "$tag-randread" "$dir" "$size" --rw=randread --bs=4k --time_based --runtime="$runtime")"
    record "$group" "$subject" randread "$(fio_value "$json" read iops)" IOPS
    drop_caches
    json="$(fio_run "$tag-randwrite" "$dir" "$size" --rw=randwrite --bs=4k --time_based --runtime="$runtime" --end_fsync=1)"
    record "$group" "$subject" randwrite "$(fio_value "$json" write iops)" IOPS
    rm -f "$dir/bench.dat"
}

meta_workload() { # GROUP SUBJECT DIR
    local group="$1" subject="$2" dir="$3" json figure value note
    drop_caches
    json="$(timeout $((meta_cap * 4 + 120)) python3 "$helpers/metadata.py" "$dir" "$meta_files" --deadline "$meta_cap" $( ((cold)) || echo --no-drop))" || {
        for figure in create stat list unlink; do record "$group" "$subject" "$figure" error ops/s "metadata script failed"; done
        return 1
    }
    for figure in create stat list unlink; do
        read -r value note < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); f=sys.argv[2]
print("%.1f" % j[f], "capped" if f in j["capped"] else "")' "$json" "$figure")
        record "$group" "$subject" "$figure" "$value" "$([[ $figure == list ]] && echo entries/s || echo ops/s)" \
            "${note:+$note at ${meta_cap}s}"
    done
}

# Extracts the prepared tarball and syncs the file system; counts what arrived when cut at the cap.
untar_workload() { # GROUP SUBJECT DIR
    local group="$1" subject="$2" dir="$3" start elapsed status count note=""
    mkdir "$dir/untar"
    drop_caches
    start="$(now)"
    timeout "$step_cap" tar -x -f "$work/tree.tar" -C "$dir/untar" --no-same-owner --no-same-permissions 2>"$work/tar-$group-$subject.err"
    status=$?
    sync -f "$dir/untar"
    elapsed="$(calc "$(now) - $start")"
    count=$(($(find "$dir/untar" | wc -l) - 1))
    ((status == 124)) && note="capped at ${step_cap}s"
    ((status != 0 && status != 124)) && note="tar exit $status: $(head -c 200 "$work/tar-$group-$subject.err" | tr '\n' ' ')"
    record "$group" "$subject" untar "$(calc "$count / $elapsed")" entries/s "$note"
}

# A short pass over every code path before measuring, so that a JIT build of our server
# (MOUNTFS_BENCH_JIT=1) is timed in its steady state rather than while compiling; the native build
# only fills its first buffers here. The peers are native and the slow FUSE ones would spend minutes.
warm_up() { # DIR
    local dir="$1"
    mkdir "$dir/warm" || return 1
    fio --name=warm --directory="$dir/warm" --filename=w.dat --ioengine=psync --size=8M --bs=1M --rw=write \
        --end_fsync=1 --output-format=terse >/dev/null 2>&1
    fio --name=warm --directory="$dir/warm" --filename=w.dat --ioengine=psync --size=8M --bs=4k --rw=randrw \
        --time_based --runtime=1 --output-format=terse >/dev/null 2>&1
    python3 "$helpers/metadata.py" "$dir/warm" 300 --deadline 5 --no-drop --subdir files >/dev/null
    timeout 20 tar -x -f "$work/tree.tar" -C "$dir/warm" --no-same-owner --no-same-permissions 2>/dev/null
    timeout 60 rm -rf "$dir/warm"
    sync
}

bench_subject() { # GROUP SUBJECT KIND IMAGE
    local group="$1" subject="$2" kind="$3" image="$4" mnt
    mnt="$(new_mountpoint "$group-$subject")"
    log "$group: $subject"
    if ! mount_subject "$kind" "$image" "$mnt"; then
        for figure in seqwrite seqread randread randwrite create stat list unlink untar; do
            record "$group" "$subject" "$figure" error - "mount failed"
        done
        return 1
    fi
    [[ $kind == ours-* ]] && warm_up "$mnt"
    io_workloads "$group" "$subject" "$mnt"
    meta_workload "$group" "$subject" "$mnt"
    untar_workload "$group" "$subject" "$mnt"
    unmount_subject "$mnt"
}

prepare_tree() {
    log "writing the source tree ($tree_files files) and its tarball"
    read -r tree_count tree_dirs tree_bytes < <(python3 "$helpers/maketree.py" "$work/tree/src" "$tree_files") ||
        die "cannot write the source tree"
    tar -c -f "$work/tree.tar" -C "$work/tree" src || die "cannot write the tarball"
    tree_entries=$((tree_count + tree_dirs + 1))
}

# Copies the source tree into a fresh FAT image: cp -r through a mount (timed until the server has
# flushed and exited, so the bytes are in the image as they are when mcopy returns) vs mcopy -s.
copy_tree() { # SUBJECT KIND|mcopy
    local subject="$1" kind="$2" image="$work/copy-$1.img" mnt start status=0 note=""
    make_image fat "$image" "$image_mb" || return 1
    drop_caches
    if [[ $kind == mcopy ]]; then
        start="$(now)"
        timeout "$step_cap" mcopy -s -i "$image" "$work/tree/src" ::/ || status=$?
    else
        mnt="$(new_mountpoint "copy-$subject")"
        mount_subject "$kind" "$image" "$mnt" || { record fat "$subject" copytree error entries/s "mount failed"; return 1; }
        [[ $kind == ours-* ]] && warm_up "$mnt"
        drop_caches
        start="$(now)"
        timeout "$step_cap" cp -r "$work/tree/src" "$mnt/" || status=$?
        unmount_subject "$mnt"
    fi
    local elapsed count
    elapsed="$(calc "$(now) - $start")"
    count="$(mdir -/ -b -i "$image" ::/src 2>/dev/null | wc -l)"
    ((status == 124)) && note="capped at ${step_cap}s"
    ((status != 0 && status != 124)) && note="exit $status"
    fsck.fat -n "$image" >"$work/fsck-$subject.log" 2>&1 || note="${note:+$note; }fsck.fat -n complains"
    record fat "$subject" copytree "$(calc "($count + 1) / $elapsed")" entries/s "$note"
    rm -f "$image"
}

bench_memory() {
    cold=0
    bench_subject memory mountfs ours-memory none
    bench_subject memory tmpfs tmpfs none
    cold=1
}

bench_ext2() {
    local image="$work/ext2.img" subject
    for subject in mountfs kernel fuse2fs; do
        make_image ext2 "$image" "$image_mb" || die "mke2fs failed"
        case "$subject" in
            mountfs) bench_subject ext2 mountfs ours-ext2 "$image" ;;
            *) bench_subject ext2 "$subject" "$subject" "$image" ;;
        esac
        if [[ $subject == mountfs ]]; then
            if e2fsck -fn "$image" >"$work/e2fsck-after-mountfs.log" 2>&1; then
                note "ext2: e2fsck -fn is clean on the image after the mountfs run"
            else
                note "ext2: e2fsck -fn finds problems on the image after the mountfs run: $(grep -v '^Pass\|^e2fsck\|^$' "$work/e2fsck-after-mountfs.log" | head -3 | tr '\n' ' ')"
            fi
        fi
    done
    rm -f "$image"
}

bench_fat() {
    local image="$work/fat.img"
    make_image fat "$image" "$image_mb" || die "mkfs.fat failed"
    bench_subject fat mountfs ours-fat "$image"
    if fsck.fat -n "$image" >"$work/fsck-fat-mountfs.log" 2>&1; then
        note "fat: fsck.fat -n is clean on the image after the mountfs run"
    else
        note "fat: fsck.fat -n complains after the mountfs run: $(tail -n +2 "$work/fsck-fat-mountfs.log" | head -3 | tr '\n' ' ')"
    fi
    make_image fat "$image" "$image_mb"
    bench_subject fat fusefat fusefat "$image"
    rm -f "$image"
    copy_tree mountfs ours-fat
    copy_tree fusefat fusefat
    copy_tree mcopy mcopy
}

time_command() { # LOG COMMAND... -> prints "SECONDS EXIT"
    local log="$1" start status
    shift
    start="$(now)"
    "$@" >"$log" 2>&1
    status=$?
    printf '%s %s\n' "$(calc "$(now) - $start")" "$status"
}

# Runs COMMAND three times, each after PREPARE (removing the image, dropping caches), and prints the best
# "SECONDS EXIT" (or the first failing run's): runs of tens of milliseconds swing with whatever else the
# machine does, for both sides alike.
best_of_3() { # PREPARE LOG COMMAND...
    local prepare="$1" log="$2" best="" seconds status i
    shift 2
    for i in 1 2 3; do
        "$prepare"
        read -r seconds status < <(time_command "$log" "$@")
        if ((status != 0)); then printf '%s %s
' "$seconds" "$status"; return; fi
        if [[ -z "$best" ]] || awk "BEGIN { exit !($seconds < $best) }"; then best="$seconds"; fi
    done
    printf '%s 0\n' "$best"
}

no_image() { rm -f "$image"; drop_caches; }

bench_tools() {
    local image="$work/tools.img" seconds status mnt
    log "tools: mkfs ${fsck_mb} MiB (best of 3 each)"
    read -r seconds status < <(best_of_3 no_image "$work/mke2fs.log" mke2fs -q -F -t ext2 "$image" "${fsck_mb}M")
    record tools e2fsprogs mkfs "$seconds" s "mke2fs -t ext2 exit $status, best of 3"
    read -r seconds status < <(best_of_3 no_image "$work/mountfs-mkfs.log" "${mountfs[@]}" mkfs -t ext2 "$image" "${fsck_mb}M")
    local check="e2fsck -fn clean"
    e2fsck -fn "$image" >"$work/e2fsck-mkfs.log" 2>&1 || check="e2fsck -fn NOT clean"
    record tools mountfs mkfs "$seconds" s "mountfs mkfs exit $status, best of 3; $check"
    # The .NET start-up alone, best of three: part of every mountfs mkfs and fsck figure.
    local best="" i
    for i in 1 2 3; do
        read -r seconds status < <(time_command "$work/startup.log" "${mountfs[@]}" --version)
        if [[ -z "$best" ]] || awk "BEGIN { exit !($seconds < $best) }"; then best="$seconds"; fi
    done
    record tools mountfs startup "$best" s "mountfs --version, best of 3"

    log "tools: filling a ${fsck_mb} MiB image with $fsck_files files through a kernel loop mount"
    make_image ext2 "$image" "$fsck_mb"
    mnt="$(new_mountpoint fill)"
    mount_subject kernel "$image" "$mnt" || die "cannot loop-mount the fsck image"
    python3 "$helpers/maketree.py" "$mnt/tree" "$fsck_files" --seed 7 --per-dir 200 >/dev/null || die "cannot fill the fsck image"
    unmount_subject "$mnt"
    read -r seconds status < <(best_of_3 drop_caches "$work/e2fsck.log" e2fsck -fn "$image")
    record tools e2fsprogs fsck "$seconds" s "e2fsck -fn exit $status, best of 3 from cold caches"
    read -r seconds status < <(best_of_3 drop_caches "$work/mountfs-fsck.log" "${mountfs[@]}" fsck -f -n "$image")
    record tools mountfs fsck "$seconds" s "mountfs fsck -f -n exit $status, best of 3 from cold caches"
    rm -f "$image"

    log "tools: peak RSS of the mountfs server while a ${big_mb} MiB file is copied in"
    head -c "$((big_mb << 20))" /dev/urandom >"$work/big.bin" || die "cannot write the big file"
    make_image ext2 "$image" "$big_image_mb"
    mnt="$(new_mountpoint rss)"
    drop_caches
    mount_subject ours-ext2 "$image" "$mnt" || { record tools mountfs rss error MiB "mount failed"; return 1; }
    local pid="$server_pid" start peak_file="$work/rss.peak"
    # VmHWM is the process's own high-water mark; sampling it until the server exits includes the
    # flush at unmount.
    (while [[ -r /proc/$pid/status ]]; do
        awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null >"$peak_file.tmp" && [[ -s "$peak_file.tmp" ]] &&
            mv "$peak_file.tmp" "$peak_file"
        sleep 0.1
    done) &
    local sampler=$!
    start="$(now)"
    cp "$work/big.bin" "$mnt/big.bin"
    unmount_subject "$mnt"
    local elapsed
    elapsed="$(calc "$(now) - $start")"
    wait "$sampler" 2>/dev/null
    local cache
    cache="$(printf '%s' "$ours_options" | tr ',' '\n' | sed -n 's/^cache\(_size\)\{0,1\}=//p')"
    record tools mountfs rss "$(calc "$(cat "$peak_file" 2>/dev/null || echo 0) / 1024")" MiB \
        "VmHWM of the server; block cache ${cache:-default (64 MiB)}"
    record tools mountfs bigcopy "$(calc "$big_mb / $elapsed")" MiB/s "cp of ${big_mb} MiB into ext2 until the server exited"
    if ! cmp -s "$work/big.bin" <(debugfs -R "cat /big.bin" "$image" 2>/dev/null); then
        note "tools: the big file read back with debugfs differs from what was copied in"
    fi
    e2fsck -fn "$image" >"$work/e2fsck-rss.log" 2>&1 || note "tools: e2fsck -fn not clean after the big copy"
    rm -f "$image" "$work/big.bin"
}

machine_facts() {
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem/ { print $2 }') GiB RAM, kernel $(uname -r)"
    echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- mountfs $tool_version, $tool_build build ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo no git)), .NET $(dotnet --version)${ours_options:+, mount options: $ours_options}"
    echo "- peers: $(fio --version), $(fuse2fs -V 2>&1 | head -1 | tr -d '\n' || true), fusefat $(dpkg-query -W -f='${Version}' fusefat 2>/dev/null), mtools $(dpkg-query -W -f='${Version}' mtools 2>/dev/null)"
    echo "- mode: $( ((quick)) && echo "--quick (small sizes, not for comparison)" || echo full) — file ${file_mb} MiB, random I/O ${runtime}s, ${meta_files} files, tree of ${tree_files} files, image ${image_mb} MiB"
}

build_tool
log "work directory $work"
facts="$(machine_facts)"
prepare_tree
want memory && bench_memory
want ext2 && bench_ext2
want fat && bench_fat
want tools && bench_tools

{
    echo "## mountfs benchmark"
    echo
    echo "$facts"
    echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    python3 "$helpers/report.py" "$results"
    if [[ -s "$work/notes.txt" ]]; then
        echo
        echo "### Checks"
        echo
        sed 's/^/- /' "$work/notes.txt"
    fi
} | tee "$work/report.md"
[[ -n "$keep_results" ]] && cp "$work/report.md" "$keep_results"
exit 0
