"""workloads.py: parlab's workloads in plain Python, with the same definitions as
workloads/*.c and therefore the same answers, bit for bit.

A job is a workload at a size N, split into T tasks. Task t covers [t*N//T, (t+1)*N//T),
as wl_task_range() in workloads/common.c, and returns its partial result as a Python int.
The partials are added in task order. Every function here is defined at module level so
that multiprocessing can pickle it by name.
"""
import math
import time
from collections import namedtuple
from math import isqrt

# What a worker needs to run any task of a job: small, immutable and picklable.
Job = namedtuple("Job", "workload size tasks seed io_ms grain_ns grain_iters",
                 defaults=(0, 0))

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # RNG_GOLDEN in workloads/rng.h


def task_range(n, tasks, task):
    """The range [lo, hi) of `task` when n items are split into `tasks` near-equal parts."""
    return task * n // tasks, (task + 1) * n // tasks


# --- primes: count the primes below N by trial division (CPU, imbalanced) -------------

def is_prime(n):
    """Trial division by 2 and by the odd d with d*d <= n, as is_prime() in primes.c."""
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    for d in range(3, isqrt(n) + 1, 2):
        if n % d == 0:
            return False
    return True


def primes_task(job, task):
    lo, hi = task_range(job.size, job.tasks, task)
    return sum(1 for n in range(lo, hi) if is_prime(n))


# pi(N), the number of primes below N, for the sizes people run (the table in primes.c).
PRIMES_KNOWN = {
    10: 4, 100: 25, 1000: 168, 10000: 1229, 100000: 9592, 1000000: 78498,
    2000000: 148933, 5000000: 348513, 10000000: 664579, 100000000: 5761455,
}


def pi_sieve(n):
    """pi(n), the primes below n, by a segmented sieve of Eratosthenes over the odd
    numbers: another method than trial division, as primes.c uses off its table."""
    if n < 3:
        return 0
    root = isqrt(n - 1)
    small = bytearray([1]) * (root + 1)
    for i in range(2, isqrt(root) + 1):
        if small[i]:
            small[i * i::i] = bytes(len(range(i * i, root + 1, i)))
    odd_primes = [p for p in range(3, root + 1, 2) if small[p]]
    count, seg_len = 1, 1 << 20          # 1 for the prime 2
    for lo in range(3, n, 2 * seg_len):  # the odd numbers lo, lo+2, ... below hi
        hi = min(n, lo + 2 * seg_len)
        size = (hi - lo + 1) // 2
        seg = bytearray([1]) * size
        for p in odd_primes:
            m = p * p
            if m >= hi:
                break
            if m < lo:
                m = (lo + p - 1) // p * p
                if m % 2 == 0:
                    m += p
            start = (m - lo) // 2
            seg[start::p] = bytes(len(range(start, size, p)))
        count += seg.count(1)
    return count


def primes_check(job):
    return "known" if job.size in PRIMES_KNOWN else "sieve"


def primes_verify(job, total):
    want = PRIMES_KNOWN.get(job.size)
    how = "the published pi(N)"
    if want is None:
        want, how = pi_sieve(job.size), "a sieve of Eratosthenes"
    if total == want:
        return 1, ""
    return 0, "counted %d primes below %d, %s gives %d" % (total, job.size, how, want)


# --- sumsq: the sum of i*i for 0 <= i < N (CPU, balanced) -----------------------------
# Python ints are exact at any size, so there is no 64-bit wrap to guard against: the
# C version needs a 128-bit accumulator for the same answer.

def sumsq_task(job, task):
    lo, hi = task_range(job.size, job.tasks, task)
    return sum(i * i for i in range(lo, hi))


def sumsq_closed(n):
    """(N-1)N(2N-1)/6, the closed form of the sum of i*i for i < N."""
    return (n - 1) * n * (2 * n - 1) // 6 if n else 0


def sumsq_verify(job, total):
    want = sumsq_closed(job.size)
    if total == want:
        return 1, ""
    return 0, "sum is %d, closed form (N-1)N(2N-1)/6 gives %d" % (total, want)


# --- montecarlo: pi from N counter-based random points (CPU, balanced) -----------------
# The generator of workloads/rng.h: the SplitMix64 finaliser over key + (i+1)*golden,
# in 64-bit arithmetic (every product and sum masked to 64 bits). Point i draws counter
# i, so the hit count does not depend on the task split, the model or the language.

def rng_mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def rng_key(seed):
    return rng_mix((seed + GOLDEN) & MASK64)


def rng_at(key, i):
    return rng_mix((key + (i + 1) * GOLDEN) & MASK64)


def montecarlo_task(job, task):
    lo, hi = task_range(job.size, job.tasks, task)
    key, hits, limit = rng_key(job.seed), 0, 1 << 64
    for i in range(lo, hi):
        # rng_at() written out: a call per point would double the time of the loop.
        z = (key + (i + 1) * GOLDEN) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        r = z ^ (z >> 31)
        x, y = r >> 32, r & 0xFFFFFFFF
        # (x, y) / 2^32 lies in the unit circle when x^2 + y^2 < 2^64: exact integers,
        # the same test as the C code's "the 64-bit sum does not wrap".
        if x * x + y * y < limit:
            hits += 1
    return hits


def montecarlo_sigmas(job, total):
    """How many standard errors 4*hits/N lies from pi (sigma = 4 sqrt(p(1-p)/N))."""
    p = math.pi / 4
    return abs(4.0 * total / job.size - math.pi) / (4.0 * math.sqrt(p * (1 - p) / job.size))


def montecarlo_verify(job, total):
    z = montecarlo_sigmas(job, total)
    if z <= 5.0:
        return 1, ""
    return 0, "pi estimate %.8f is %.1f standard errors from pi (limit 5)" % (
        4.0 * total / job.size, z)


def montecarlo_describe(job, total):
    return "%d hits of %d points: pi ~ %.8f (%.2f standard errors from pi)" % (
        total, job.size, 4.0 * total / job.size, montecarlo_sigmas(job, total))


# --- noop and sleep: pure dispatch cost, and I/O waits ----------------------------------

def noop_task(job, task):
    return 1


def sleep_task(job, task):
    time.sleep(job.io_ms / 1000)
    return 1


async def sleep_task_async(job, task):
    """The async form: the event loop's own timer, no thread or process per wait."""
    import asyncio
    await asyncio.sleep(job.io_ms / 1000)
    return 1


# --- spin: tasks of a set duration (--grain NS), as workloads/spin.c ---------------------
# Task t runs k steps of the LCG x <- A*x + C mod 2^64 from x = seed + t; k is calibrated
# once per job (spin_setup) to take --grain ns in this interpreter. The checksum, the sum
# of the last x of every task mod 2^64, has the closed form of the LCG's k-step jump.

SPIN_A, SPIN_C, SPIN_DEFAULT_STEPS = 6364136223846793005, 1442695040888963407, 1024


def spin_chain(x, k):
    for _ in range(k):
        x = (x * SPIN_A + SPIN_C) & MASK64
    return x


def spin_ns_per_step():
    """ns per LCG step here: the chain grows until a run takes 2 ms, then the best of
    three runs of that length."""
    n = 256
    while True:
        t0 = time.perf_counter_ns()
        spin_chain(n, n)
        t = time.perf_counter_ns() - t0
        if t >= 2000000:
            break
        n *= 2
    for r in range(3):
        t0 = time.perf_counter_ns()
        spin_chain(r, n)
        t = min(t, time.perf_counter_ns() - t0)
    return max(t, 1) / n


def spin_setup(job):
    if job.grain_iters:
        return job
    if not job.grain_ns:
        return job._replace(grain_iters=SPIN_DEFAULT_STEPS)
    return job._replace(grain_iters=max(1, round(job.grain_ns / spin_ns_per_step())))


def spin_task(job, task):
    return spin_chain(job.seed + task, job.grain_iters)


def spin_closed(job):
    """A_k*(T*seed + T(T-1)/2) + T*C_k mod 2^64, (A_k, C_k) by repeated squaring."""
    ra, rc, pa, pc, k = 1, 0, SPIN_A, SPIN_C, job.grain_iters
    while k:
        if k & 1:
            ra, rc = pa * ra & MASK64, (pa * rc + pc) & MASK64
        pa, pc = pa * pa & MASK64, (pa * pc + pc) & MASK64
        k >>= 1
    t = job.tasks
    return (ra * (t * job.seed + t * (t - 1) // 2) + t * rc) & MASK64


def spin_verify(job, total):
    want = spin_closed(job)
    if total & MASK64 == want:
        return 1, ""
    return 0, "checksum %016x, the closed form of %d LCG steps gives %016x" % (
        total & MASK64, job.grain_iters, want)


def spin_describe(job, total):
    return "checksum %016x: %d tasks of %d LCG steps" % (total & MASK64, job.tasks,
                                                        job.grain_iters)


def count_verify(job, total):
    if total == job.tasks:
        return 1, ""
    return 0, "%d of %d tasks reported" % (total, job.tasks)


# --- the workloads implemented here -------------------------------------------------------
# Not a registry: which workloads exist, their sizes and the order they are compared in come
# from parlab's (`parlab list`, workloads/registry.c); scripts/compare.sh times a CPU
# workload missing here in C alone, as "no Python peer". The facts below mirror parlab's
# for this command line (parlab_py.py run) alone.

# check_for(job), where given, names the check verify() applies to that job (primes:
# "known" at a size in its table, "sieve" elsewhere); without it, `check`.
Workload = namedtuple(
    "Workload",
    "name summary kind default_size default_tasks min_size max_size check task verify "
    "describe async_task check_for setup fmt", defaults=(None, None, None))

# default_tasks 0: one task per item, so -n and -t both give the task count (noop, sleep).
WORKLOADS = {w.name: w for w in (
    Workload("primes", "count primes below N by trial division (CPU, imbalanced)", "cpu",
             2000000, 64, 1, 10**12, "known", primes_task, primes_verify, None, None,
             primes_check),
    Workload("sumsq", "sum of i^2 for i < N, exact Python ints (CPU, balanced)", "cpu",
             200000000, 64, 1, 1 << 32, "closed-form", sumsq_task, sumsq_verify, None, None),
    Workload("montecarlo", "estimate pi from N counter-based random points (CPU, balanced)",
             "cpu", 100000000, 64, 100, 1 << 50, "5-sigma", montecarlo_task,
             montecarlo_verify, montecarlo_describe, None),
    Workload("noop", "tasks that do nothing: pure dispatch cost (N = the task count)", "none",
             1000000, 0, 1, 1 << 32, "task-count", noop_task, count_verify, None, None),
    Workload("spin", "tasks of --grain ns of integer work each, for the grain sweep (N = "
             "the task count)", "none", 10000, 0, 1, 1 << 32, "closed-form", spin_task,
             spin_verify, spin_describe, None, None, spin_setup,
             lambda job, total: "%016x" % (total & MASK64)),
    Workload("sleep", "each task waits --io-ms ms: asyncio.sleep in asyncio, time.sleep "
             "elsewhere (I/O)", "io", 100, 0, 1, 1000000, "task-count", sleep_task,
             count_verify, None, sleep_task_async),
)}


def run_task(job, task):
    """Run task `task` of `job` to completion and return its partial result. Any worker
    (thread or process) may call it; it reads only its arguments."""
    return WORKLOADS[job.workload].task(job, task)
