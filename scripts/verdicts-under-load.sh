#!/usr/bin/env bash
# verdicts-under-load.sh: do parlab's verdicts survive a busy machine? Reproduces the figures
# of "verdicts that survive a busy machine" by running them, beside one busy loop and without.
#
#   scripts/verdicts-under-load.sh [N]        N runs of each lab per condition (default 10)
#
# Environment: LABS (default "1 3 6 7"), CONDITIONS (default "busy quiet"), QUIET_WAIT (the
# WAIT_QUIET of each quiet run, default 120 s), PYTHON (default /usr/bin/python3), PARLAB
# (default bin/parlab). The busy loop runs at nice 0 (as this script does) and is killed on
# exit, whatever the exit. Exit 0 when every figure measured holds (a quiet figure on a
# machine that never went quiet is reported as not measured), 1 when one does not, 64 bad
# input.
#
# Sections: labs (below). Further sections (the bench, make diff) go after it, each a function
# called from main and adding its verdict lines to the summary.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 71

N=${1:-${N:-10}}
LABS=${LABS:-1 3 6 7}
CONDITIONS=${CONDITIONS:-busy quiet}
QUIET_WAIT=${QUIET_WAIT:-120}
PYTHON=${PYTHON:-/usr/bin/python3}
export PARLAB=${PARLAB:-bin/parlab}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
    echo "parlab: verdicts-under-load: N=$N: give a positive whole number of runs" >&2
    exit 64
fi
for c in $CONDITIONS; do
    [[ $c == busy || $c == quiet ]] || { echo "parlab: verdicts-under-load: condition '$c': busy or quiet" >&2; exit 64; }
done
[ -x "$PARLAB" ] || { echo "parlab: verdicts-under-load: no $PARLAB: run make first" >&2; exit 64; }

work=$(mktemp -d /tmp/parlab-verdicts-XXXXXX) || exit 71
loop_pid=
cleanup() {
    if [ -n "$loop_pid" ]; then
        kill "$loop_pid" 2>/dev/null
        wait "$loop_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

busy_start() {
    (while :; do :; done) &
    loop_pid=$!
}
busy_stop() {
    kill "$loop_pid" 2>/dev/null
    wait "$loop_pid" 2>/dev/null
    loop_pid=
}

summary=()      # one line per figure
broken=0        # figures that do not hold
unmeasured=0    # figures the machine's own load kept from being measured

# ------------------------------------------------------------------------------- labs
# N runs of each lab, each checked with the committed known-good predictions
# (tests/corpus/labs/NN-name/predict.txt). Figures: beside a busy loop, no check fails (an
# inconclusive one gives its reason); quiet, at least 9 in 10 runs are conclusive passes.
# Then, under the load, the committed known-bad runs (tests/corpus/labs/NN-name/bad/) never
# pass, and a wrong prediction of lab 7 (Pool.map speedup 1.0) is never graded right.

lab_name() { basename labs/"$(printf '%02d' "$1")"-*; }

labs_condition() {
    local cond=$1 l name i run rc chk pass inc fail err fails_lines disturbed
    for l in $LABS; do
        name=$(lab_name "$l")
        pass=0 inc=0 fail=0 err=0 fails_lines=0 disturbed=0
        for i in $(seq "$N"); do
            if [ "$cond" = quiet ]; then
                WAIT_QUIET=$QUIET_WAIT LAB_RESULTS="$work/$cond" "$PYTHON" scripts/lab.py run "$l" \
                    >"$work/run.log" 2>&1
            else
                LAB_RESULTS="$work/$cond" "$PYTHON" scripts/lab.py run "$l" >"$work/run.log" 2>&1
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
            tail -1 "$chk" | grep -q '^busy:' && disturbed=$((disturbed + 1))
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
        if [ "$cond" = quiet ] && [ $disturbed -gt 0 ]; then
            line="$line  << not measured: the machine was busy during $disturbed of $N lab runs (see their trust lines)"
            unmeasured=$((unmeasured + 1))
        elif [ "$cond" = quiet ] && [ $((10 * pass)) -lt $((9 * N)) ]; then
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

# ------------------------------------------------------------------------------- main
echo "verdicts under load: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), N = $N"
labs_section
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
