#!/usr/bin/env bash
# verdicts-under-load.sh: do parlab's verdicts survive a busy machine? Reproduces the figures
# of "verdicts that survive a busy machine" by running them, beside one busy loop and without.
#
#   scripts/verdicts-under-load.sh [N]        N runs of each lab per condition (default 10)
#
# Environment: LABS (default "1 3 6 7"), CONDITIONS (default "busy quiet"), TEST_QUIET and
# TEST_BUSY (make test runs, quiet and beside two busy loops, default 10 and 5), QUIET_WAIT (the
# WAIT_QUIET of each quiet run, default 120 s), PYTHON (default /usr/bin/python3), PARLAB
# (default bin/parlab). The busy loop runs at nice 0 (as this script does) and is killed on
# exit, whatever the exit. Exit 0 when every figure measured holds (a quiet figure on a
# machine that never went quiet is reported as not measured), 1 when one does not, 64 bad
# input.
#
# Sections: labs, test, diff (below; SECTIONS="test" runs one). Further sections go after them, each
# a function called from main and adding its verdict lines to the summary.
#
# diff: make diff as a gate, from real QUICK benches of this commit (about 3 minutes each on
# a quiet 2-core machine; PARLAB_BENCH_WORKLOADS shortens them): quiet run A against run B
# made beside the busy loop (no significant change: ~ or inconclusive, exit 0); A against a
# second quiet run C (exit 0); A against C_planted, a copy of C whose PLANT_RUNNER (default
# thread) times are scaled by 1.2 after the run, labelled PLANTED in its bench.conf and
# warnings.txt (significant, with its interval, exit 1); and the committed reference (another
# mode and size) against A (one line, exit 64; with FORCE=1 compared, exit 0).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 71

N=${1:-${N:-10}}
SECTIONS=${SECTIONS:-labs test diff}
LABS=${LABS:-1 3 6 7}
CONDITIONS=${CONDITIONS:-busy quiet}
QUIET_WAIT=${QUIET_WAIT:-120}
PYTHON=${PYTHON:-/usr/bin/python3}
export PARLAB=${PARLAB:-bin/parlab}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
    echo "parlab: verdicts-under-load: N=$N: give a positive whole number of runs" >&2
    exit 64
fi
TEST_QUIET=${TEST_QUIET:-10}
TEST_BUSY=${TEST_BUSY:-5}
for s in $SECTIONS; do
    [[ $s == labs || $s == test || $s == diff ]] ||
        { echo "parlab: verdicts-under-load: section '$s': labs, test or diff" >&2; exit 64; }
done
for v in TEST_QUIET TEST_BUSY; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "parlab: verdicts-under-load: $v=${!v}: give a whole number of runs" >&2; exit 64; }
done
for c in $CONDITIONS; do
    [[ $c == busy || $c == quiet ]] || { echo "parlab: verdicts-under-load: condition '$c': busy or quiet" >&2; exit 64; }
done
[ -x "$PARLAB" ] || { echo "parlab: verdicts-under-load: no $PARLAB: run make first" >&2; exit 64; }

work=$(mktemp -d /tmp/parlab-verdicts-XXXXXX) || exit 71
loop_pid=
cleanup() {
    busy_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# busy_start [K]: K busy loops at nice 0 (default 1); busy_stop ends them all.
busy_start() {
    local k
    for k in $(seq "${1:-1}"); do
        (trap - EXIT INT TERM; while :; do :; done) &
        loop_pid="$loop_pid $!"
    done
}
busy_stop() {
    local p
    for p in $loop_pid; do kill "$p" 2>/dev/null; done
    for p in $loop_pid; do wait "$p" 2>/dev/null; done
    loop_pid=
}

summary=()      # one line per figure
broken=0        # figures that do not hold
unmeasured=0    # figures the machine's own load kept from being measured

# ------------------------------------------------------------------------------- labs
# N runs of each lab, each checked with the committed known-good predictions
# (tests/corpus/labs/NN-name/predict.txt) and, where students write code, the key's model
# answer as the student's. Figures: beside a busy loop, no check fails (an
# inconclusive one gives its reason); quiet, at least 9 in 10 runs are conclusive passes.
# Then, under the load, the committed known-bad runs (tests/corpus/labs/NN-name/bad/) never
# pass, and a wrong prediction of lab 7 (Pool.map speedup 1.0) is never graded right.

lab_name() { basename labs/"$(printf '%02d' "$1")"-*; }
# The known-good student: a lab where students write code is run with the key's model
# answer (labs/NN-name/key/*.c), as a course grades a right answer; the shipped stub is the
# naive version, graded slower than the reference on purpose.
lab_student() { local k; for k in labs/"$(lab_name "$1")"/key/*.c; do [ -f "$k" ] && echo "$PWD/$k"; done | head -n 1; }

labs_condition() {
    local cond=$1 l name i run rc chk pass inc fail err fails_lines disturbed pass_quiet
    for l in $LABS; do
        name=$(lab_name "$l")
        pass=0 inc=0 fail=0 err=0 fails_lines=0 disturbed=0 pass_quiet=0
        for i in $(seq "$N"); do
            if [ "$cond" = quiet ]; then
                STUDENT=$(lab_student "$l") WAIT_QUIET=$QUIET_WAIT LAB_RESULTS="$work/$cond" \
                    "$PYTHON" scripts/lab.py run "$l" >"$work/run.log" 2>&1
            else
                STUDENT=$(lab_student "$l") LAB_RESULTS="$work/$cond" "$PYTHON" scripts/lab.py run "$l" \
                    >"$work/run.log" 2>&1
            fi
            rc=$?
            run=$(ls -d "$work/$cond/$name"/*/ 2>/dev/null | tail -1)
            if [ $rc -ne 0 ] || [ -z "$run" ]; then
                err=$((err + 1))
                echo "  lab $l $cond run $i: lab.py run exited $rc: $(tail -1 "$work/run.log")"
                continue
            fi
            chk="$work/check-$cond-$l-$i.txt"
            "$PYTHON" scripts/lab.py check "$l" --run "$run" \
                --predict "tests/corpus/labs/$name/predict.txt" >"$chk" 2>&1
            rc=$?
            case $rc in
                0) pass=$((pass + 1)) ;;
                2) inc=$((inc + 1)) ;;
                *) fail=$((fail + 1)) ;;
            esac
            fails_lines=$((fails_lines + $(grep -c '^  FAIL step' "$chk")))
            if tail -1 "$chk" | grep -q '^busy:'; then disturbed=$((disturbed + 1))
            elif [ $rc -eq 0 ]; then pass_quiet=$((pass_quiet + 1)); fi
            echo "  lab $l $cond run $i: exit $rc; $(tail -1 "$chk")"
            grep -A1 '^  FAIL step\|^  ??   step' "$chk" | grep -v '^--$' | cut -c1-240 | sed 's/^/      /'
            if [ "$cond" = busy ] && [ "$l" = 7 ]; then
                "$PYTHON" scripts/lab.py check 7 --run "$run" \
                    --predict tests/corpus/labs/07-python/predict-wrong.txt >"$work/wrong.txt" 2>&1
                grep ' py_speedup_pool ' "$work/wrong.txt" | grep -q 'right' && wrong_right=$((wrong_right + 1))
                wrong_runs=$((wrong_runs + 1))
            fi
            rm -rf "$run"
        done
        local line="labs, $cond: lab $l, $N runs: $pass conclusive passes, $inc inconclusive, $fail failed ($fails_lines FAIL lines), $err could not run"
        if [ "$cond" = busy ] && [ $((fail + fails_lines)) -gt 0 ]; then
            line="$line  << a busy machine failed a check"
            broken=$((broken + 1))
        fi
        # Quiet: at least 9 in 10 conclusive passes. A run the machine disturbed may be
        # inconclusive without counting against it; with half the runs disturbed or more
        # the figure is not measured.
        local undisturbed=$((N - disturbed))
        [ "$cond" = quiet ] && [ $disturbed -gt 0 ] &&
            line="$line; $disturbed disturbed, $pass_quiet of the $undisturbed others conclusive passes"
        if [ "$cond" = quiet ] && [ $((2 * disturbed)) -ge "$N" ]; then
            line="$line  << not measured: the machine was busy during $disturbed of $N lab runs (see their trust lines)"
            unmeasured=$((unmeasured + 1))
        elif [ "$cond" = quiet ] && [ $((10 * pass_quiet)) -lt $((9 * undisturbed)) ]; then
            line="$line  << under 9 in 10 conclusive passes"
            broken=$((broken + 1))
        fi
        summary+=("$line")
    done
}

labs_bad_fixtures() {
    local d name num rc out bad_pass=0 lines=""
    for d in tests/corpus/labs/*/bad; do
        name=$(basename "$(dirname "$d")")
        num=${name%%-*}
        out=$("$PYTHON" scripts/lab.py check "$((10#$num))" --run "$d" \
            --predict "tests/corpus/labs/$name/predict.txt" 2>&1)
        rc=$?
        case $rc in
            1) lines="$lines $name:fail" ;;
            2) lines="$lines $name:inconclusive" ;;
            *) lines="$lines $name:exit-$rc"; bad_pass=$((bad_pass + 1)) ;;
        esac
    done
    local line="labs, busy: known-bad runs:$lines"
    if [ $bad_pass -gt 0 ]; then
        line="$line  << $bad_pass known-bad runs did not fail"
        broken=$((broken + 1))
    fi
    summary+=("$line")
}

labs_section() {
    local cond
    wrong_runs=0 wrong_right=0
    for cond in $CONDITIONS; do
        echo "labs, $cond: $N runs each of labs $LABS"
        if [ "$cond" = busy ]; then
            busy_start
            labs_condition busy
            labs_bad_fixtures
            busy_stop
        else
            labs_condition quiet
        fi
    done
    if [ $wrong_runs -gt 0 ]; then
        local line="labs, busy: lab 7's wrong prediction (Pool.map speedup 1.0) graded right in $wrong_right of $wrong_runs runs"
        if [ $wrong_right -gt 0 ]; then
            line="$line  << a load-flattened gain made a wrong guess right"
            broken=$((broken + 1))
        fi
        summary+=("$line")
    fi
}

# ------------------------------------------------------------------------------- test
# make test, TEST_QUIET times on a quiet machine (each after waiting up to QUIET_WAIT s for
# quiet; a run during which other processes used more than 0.5 CPU is reported as not
# measured) and TEST_BUSY times beside two busy loops. Figure: every run passes.
test_runs() {
    local cond=$1 n=$2 i rc t0 other pass=0 failed=0 disturbed=0 busy_cpu
    [ "$n" -gt 0 ] || return 0
    echo "test, $cond: make test, $n runs"
    [ "$cond" = busy ] && busy_start 2
    for i in $(seq "$n"); do
        [ "$cond" = quiet ] && "$PYTHON" scripts/verdict.py trust --wait "$QUIET_WAIT" >/dev/null
        t0=$SECONDS
        "$PYTHON" scripts/verdict.py load "$work/load" make --no-print-directory test \
            >"$work/test-$cond-$i.log" 2>&1
        rc=$?
        other=$(cat "$work/load" 2>/dev/null)
        if [ $rc -eq 0 ]; then pass=$((pass + 1)); else
            failed=$((failed + 1))
            cp "$work/test-$cond-$i.log" "/tmp/parlab-verdicts-test-$cond-$i.log" 2>/dev/null
        fi
        # The meter counts the busy loops too: beside two of them, other CPU is about 2.
        busy_cpu=$(awk -v o="${other:-0}" -v c="$cond" 'BEGIN { print (c == "quiet" && o > 0.5) ? 1 : 0 }')
        disturbed=$((disturbed + busy_cpu))
        echo "  test $cond run $i: exit $rc in $((SECONDS - t0)) s, other processes ${other:-?} CPU;" \
            "$(grep -E '^ +tests |^# torture: ' "$work/test-$cond-$i.log" | tr -s ' ' | tr '\n' ' ' | cut -c1-200)"
        [ $rc -eq 0 ] || echo "    log kept: /tmp/parlab-verdicts-test-$cond-$i.log"
    done
    [ "$cond" = busy ] && busy_stop
    local line="test, $cond: make test, $n runs: $pass passed, $failed failed"
    if [ $failed -gt 0 ]; then
        line="$line  << make test failed"
        broken=$((broken + 1))
    elif [ "$cond" = quiet ] && [ $disturbed -gt 0 ]; then
        line="$line  ($disturbed of them disturbed by other processes)"
    fi
    summary+=("$line")
}
test_section() {
    local cond
    for cond in $CONDITIONS; do
        if [ "$cond" = quiet ]; then test_runs quiet "$TEST_QUIET"; else test_runs busy "$TEST_BUSY"; fi
    done
}

# ------------------------------------------------------------------------------- diff
# diff_bench NAME: one QUICK bench into $work/runs-NAME, linked as $work/NAME.
diff_bench() {
    local t0=$SECONDS
    PARLAB_RESULTS="$work/runs-$1" scripts/bench.sh --quick >"$work/$1.log" 2>&1 || {
        echo "  bench $1 failed: $(tail -1 "$work/$1.log")"; return 1; }
    ln -sfn "$(readlink -f "$work/runs-$1/latest")" "$work/$1"
    echo "  run $1: $(grep '^# trust at the start' "$work/$1.log" | cut -c3-); $(grep '^# trust: ' "$work/$1.log" | cut -c3-); $((SECONDS - t0)) s"
}
# diff_plant FROM TO RUNNER FACTOR: a copy of run FROM with RUNNER's own times multiplied by
# FACTOR in samples.csv and its tidy CSVs (columns found by their header names).
diff_plant() {
    local from=$1 to=$2 r=$3 f=$4 csv
    rm -rf "$to"; cp -r "$(readlink -f "$from")" "$to" || return 1
    rm -rf "$to"/diff-*
    for csv in samples.csv cores.csv workers.csv concurrency.csv; do
        [ -s "$to/$csv" ] || continue
        awk -F, -v OFS=, -v r="$r" -v f="$f" '
          NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print; next }
          $c["runner"] == r && (!("role" in c) || $c["role"] == "point") {
            split("time_s mean_s stddev_s median_s min_s max_s", k, " ")
            for (j in k) if (k[j] in c && $c[k[j]] != "") $c[k[j]] = sprintf("%.6f", $c[k[j]] * f)
          }
          { print }' "$to/$csv" >"$to/$csv.tmp" && mv "$to/$csv.tmp" "$to/$csv"
    done
    echo "planted=$r times × $f (a fixture for make diff, not a measurement)" >>"$to/bench.conf"
    echo "PLANTED: $r's times multiplied by $f after the run, to check make diff" >>"$to/warnings.txt"
}
# diff_figure TEXT EXPECTED STATUS [UNMEASURED]: one summary line per figure.
diff_figure() {
    local line="diff: $1: exit $3"
    if [ -n "${4:-}" ]; then
        line="$line  << not measured: $4"; unmeasured=$((unmeasured + 1))
    elif [ "$3" != "$2" ]; then
        line="$line  << expected $2"; broken=$((broken + 1))
    fi
    summary+=("$line")
}
diff_section() {
    local plant=${PLANT_RUNNER:-thread} st busyA="" busyC=""
    echo "diff: QUICK runs of this commit (WAIT_QUIET=$QUIET_WAIT for the quiet ones)"
    WAIT_QUIET=$QUIET_WAIT diff_bench A || { broken=$((broken + 1)); return; }
    busy_start
    diff_bench B || { busy_stop; broken=$((broken + 1)); return; }
    busy_stop
    WAIT_QUIET=$QUIET_WAIT diff_bench C || { broken=$((broken + 1)); return; }
    grep -q '^# trust: busy' "$work/A.log" && busyA="run A was disturbed (see its trust line)"
    grep -q '^# trust: busy' "$work/C.log" && busyC="run C was disturbed (see its trust line)"
    scripts/diff.sh "$work/A" "$work/B" >"$work/diff-AB.txt" 2>/dev/null; st=$?
    tail -n 3 "$work/diff-AB.txt" | sed 's/^/  /'
    diff_figure "quiet run A against run B beside a busy loop, no significant change" 0 $st
    scripts/diff.sh "$work/A" "$work/C" >"$work/diff-AC.txt" 2>/dev/null; st=$?
    tail -n 2 "$work/diff-AC.txt" | sed 's/^/  /'
    diff_figure "two quiet runs A and C" 0 $st "${busyA:-$busyC}"
    diff_plant "$work/C" "$work/C_planted" "$plant" 1.2 || { broken=$((broken + 1)); return; }
    scripts/diff.sh "$work/A" "$work/C_planted" >"$work/diff-planted.txt" 2>/dev/null; st=$?
    grep ': slower (' "$work/diff-planted.txt" | head -n 4 | sed 's/^/  /'
    tail -n 2 "$work/diff-planted.txt" | sed 's/^/  /'
    diff_figure "A against C with $plant planted 20% slower, significant with its interval" 1 $st \
        "${busyA:-$busyC}"
    local ref
    for ref in results/reference/*/; do [ -s "$ref/cores.csv" ] && break; done
    if [ -s "$ref/cores.csv" ]; then
        scripts/diff.sh "${ref%/}" "$work/A" >/dev/null 2>"$work/diff-mode.err"; st=$?
        sed 's/^/  /' "$work/diff-mode.err"
        [ "$(grep -c . "$work/diff-mode.err")" = 1 ] || st="$st with $(grep -c . "$work/diff-mode.err") lines"
        diff_figure "a default run against a QUICK one, refused in one line" 64 "$st"
        FORCE=1 scripts/diff.sh "${ref%/}" "$work/A" >"$work/diff-force.txt" 2>/dev/null; st=$?
        diff_figure "the same with FORCE=1, compared, never a fail" 0 $st
    fi
}

# ------------------------------------------------------------------------------- main
echo "verdicts under load: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), N = $N"
for section in $SECTIONS; do
    case $section in
        labs) labs_section ;;
        test) test_section ;;
        diff) diff_section ;;
    esac
done
echo
echo "summary:"
printf '  %s\n' "${summary[@]}"
if [ $broken -gt 0 ]; then
    echo "$broken figures do not hold"
elif [ $unmeasured -gt 0 ]; then
    echo "every figure measured holds; $unmeasured not measured (no quiet machine)"
else
    echo "every figure holds"
fi
[ $broken -eq 0 ]
