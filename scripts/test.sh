#!/usr/bin/env bash
# Sets the machine up, then runs every test project and prints, as the very last line,
# "N passed, N failed, N skipped" summed over all of them. Exits non-zero if any test or build failed.
set -uo pipefail
repo="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$repo"

if ! bash scripts/setup.sh; then
    echo "test: setup or build failed"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

results="$repo/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

status=0
passed=0 failed=0 skipped=0
for project in tests/*/*.Tests.csproj; do
    name="$(basename "$project" .csproj)"
    echo "test: $name"
    # A hung test (a stuck mount, say) is dumped and killed rather than stalling the whole run.
    run_ok=1
    if ! dotnet test "$project" -c Release --no-build --nologo \
        --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
        --results-directory "$results" --blame-hang-timeout 10m; then
        status=1
        run_ok=0
    fi
    trx="$results/$name.trx"
    if [[ ! -f "$trx" ]]; then
        # No results at all: a crashed run counts as one failure; a project without tests yet counts nothing.
        if ((run_ok == 0)); then
            echo "test: $name: the test run failed without results"
            failed=$((failed + 1))
        fi
        continue
    fi
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n1)"
    get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
    total=${total:-0} p=${p:-0} f=${f:-0} e=${e:-0} t=${t:-0} a=${a:-0}
    bad=$((f + e + t + a))
    skipped=$((skipped + total - p - bad))
    if ((run_ok == 0 && bad == 0)); then
        # The host crashed or was killed (a hang) after some tests passed: that is a failure too.
        echo "test: $name: the test run failed (crash or hang) after $p passed"
        bad=1
    fi
    passed=$((passed + p))
    failed=$((failed + bad))
done

if ((failed > 0)); then status=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
