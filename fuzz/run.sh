#!/usr/bin/env bash
# Runs every cargo fuzz target for SECONDS (default 120) each, one after the other, one job, and
# prints a summary: executions, corpus entries before and after, crashes.
#
#   fuzz/run.sh [SECONDS]        (needs the nightly toolchain and `cargo install cargo-fuzz`)
#
# The seeds (fuzz/seeds/<target>/, committed) are copied into fuzz/corpus/<target>/ (ignored by
# git), which grows from run to run; crash inputs land in fuzz/artifacts/<target>/ (ignored too:
# a crash becomes a regression test in the main crate, see docs/OPERATIONS.md).
#
# Two ways to build (FUZZ_TARGETS="sanitize markdown" limits the run to some targets):
# - by default, on stable, in the main crate's dev profile, with rustc-sancov.sh instrumenting
#   only our code (`ronron` and the targets): every other dependency is reused from the main
#   crate's `cargo test` build when CARGO_TARGET_DIR points at its target directory (`target/`,
#   or a copy of it), so the build is a few minutes. Coverage then guides the fuzzer through our
#   code only, not inside the dependencies.
# - FUZZ_WITH_CARGO_FUZZ=1: `cargo +nightly fuzz`, every crate instrumented (release, debug
#   assertions on; FUZZ_SANITIZER=address for AddressSanitizer, default none: the crate forbids
#   unsafe code). It compiles all ~400 crates: expect an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-120}
targets=${FUZZ_TARGETS:-activity signature_header webfinger actor sanitize markdown form config}
sanitizer=${FUZZ_SANITIZER:-none}
# One compile job and one fuzzing process: the machines this runs on are shared.
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
mkdir -p logs
all_targets="activity signature_header webfinger actor sanitize markdown form config"
if [ "${FUZZ_WITH_CARGO_FUZZ:-0}" = 1 ]; then
    cargo +nightly fuzz build -s "$sanitizer" >logs/build.log 2>&1 || { tail -30 logs/build.log; exit 1; }
else
    target_dir=${CARGO_TARGET_DIR:-$PWD/../target}
    RUSTC_WRAPPER="$PWD/rustc-sancov.sh" FUZZ_INSTRUMENT="ronron $all_targets" CARGO_TARGET_DIR="$target_dir" \
        cargo build --bins >logs/build.log 2>&1 || { tail -30 logs/build.log; exit 1; }
fi
summary=()
failed=0
for target in $targets; do
    mkdir -p "corpus/$target" "artifacts/$target"
    cp -n seeds/"$target"/* "corpus/$target/"
    before=$(find "corpus/$target" -type f | wc -l)
    crashes_before=$(find "artifacts/$target" -type f | wc -l)
    status=0
    options=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
    if [ "${FUZZ_WITH_CARGO_FUZZ:-0}" = 1 ]; then
        cargo +nightly fuzz run -s "$sanitizer" "$target" "corpus/$target" -- "${options[@]}" \
            >"logs/$target.log" 2>&1 || status=$?
    else
        "$target_dir/debug/$target" "corpus/$target" -artifact_prefix="artifacts/$target/" "${options[@]}" \
            >"logs/$target.log" 2>&1 || status=$?
    fi
    after=$(find "corpus/$target" -type f | wc -l)
    crashes=$(( $(find "artifacts/$target" -type f | wc -l) - crashes_before ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$target.log" | grep -o '[0-9]*$' | tail -1)
    took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "logs/$target.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
    if [ "$status" -ne 0 ]; then
        failed=1
        echo "== $target stopped (exit $status):"
        grep -m1 -A12 -E '^thread .* panicked|ERROR: libFuzzer|SUMMARY' "logs/$target.log" || tail -20 "logs/$target.log"
    fi
    summary+=("$(printf '%-17s %8s %12s %8s %8s %8s' "$target" "${took:-$seconds}" "${execs:-?}" "$before" "$after" "$crashes")")
done
printf '%-17s %8s %12s %8s %8s %8s\n' target seconds executions corpus0 corpus1 crashes
printf '%s\n' "${summary[@]}"
echo "logs: fuzz/logs/<target>.log; crash inputs: fuzz/artifacts/<target>/"
exit $failed
