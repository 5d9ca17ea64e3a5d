#!/usr/bin/env bash
# A RUSTC_WRAPPER that adds libFuzzer's coverage instrumentation (what `cargo fuzz` adds to every
# crate) to the crates whose code the targets exercise, and only to them: the other dependencies
# are reused as the main crate's `cargo build` compiled them, so a fuzz build compiles a dozen
# crates, not four hundred, on stable. Used by `run.sh` unless FUZZ_WITH_CARGO_FUZZ=1.
rustc=$1; shift
name=
prev=
for arg in "$@"; do
    if [ "$prev" = "--crate-name" ]; then name=$arg; break; fi
    prev=$arg
done
case " ${FUZZ_INSTRUMENT:-} " in
    *" $name "*)
        exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
            -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
            -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks ;;
esac
exec "$rustc" "$@"
