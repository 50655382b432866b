#!/usr/bin/env python3
"""known_answers.py: recompute every answer that workloads/*.c records (Monte Carlo hit
counts, mandelbrot checksums, n-body state hashes) with an implementation that shares no
code with the C one, and print them as the C tables.

    python3 peers/python/known_answers.py                  # the tables, on stdout
    python3 peers/python/known_answers.py --check bin/parlab  # and compare bin/parlab's
    python3 peers/python/known_answers.py -j 2 --only nbody   # one workload, 2 processes
    python3 peers/python/known_answers.py --small --check bin/parlab  # seconds

Standard library only. The whole set takes about 10 CPU-minutes (Python is slow on this
work), spread over -j processes (default: every CPU); --small keeps the entries of a
second or so (the test suite runs it that way).

Which jobs are recorded, and why: parlab's own default (`parlab run` with no -n), the
sizes of `make bench` (default), QUICK=1, FULL=1 and the tiny mode the test suite uses
(scripts/bench.sh), and the sizes the CUnit suites run (tests/test_workloads.c,
test_matrix.c, test_peers.c). Keep ENTRIES in step with those files.

Why the answers agree bit for bit: the C code is written so that they must.
- Monte Carlo: point i draws counter i of rng.h's stream and the hit test is exact integer
  arithmetic (the same generator as workloads.py), so the hit count of N points is the
  count over the first N points of one stream: one pass gives every N of a seed.
- Mandelbrot and n-body use only +, -, *, / and sqrt on doubles, in the order the C code
  writes them. Python floats are IEEE 754 doubles with correctly rounded arithmetic and
  sqrt, and the C build has -ffp-contract=off (no fused multiply-add), so every rounding
  is the same.
"""
import getopt
import math
import os
import struct
import subprocess
import sys
from multiprocessing import Pool

from workloads import GOLDEN, MASK64, rng_key

# --- what is recorded -----------------------------------------------------------------------
# (workload, size, steps, seed, why). steps and seed are 0 where the answer does not
# depend on them.
SEED_MAX = (1 << 64) - 1
ENTRIES = [
    ("montecarlo", 20000, 0, 7, "tests: runner matrix"),
    ("montecarlo", 123457, 0, SEED_MAX, "tests: peers, a seed that wraps"),
    ("montecarlo", 200000, 0, 1, "bench tiny; tests: peers"),
    ("montecarlo", 200000, 0, 42, "tests: peers"),
    ("montecarlo", 1000000, 0, 42, "tests: workloads"),
    ("montecarlo", 1000000, 0, 43, "tests: workloads"),
    ("montecarlo", 100000000, 0, 1, "parlab default"),
    ("montecarlo", 120000000, 0, 1, "bench QUICK=1"),
    ("montecarlo", 200000000, 0, 1, "bench"),
    ("montecarlo", 400000000, 0, 1, "bench FULL=1"),
    ("mandelbrot", 2500, 0, 0, "tests: runner matrix"),
    ("mandelbrot", 10000, 0, 0, "bench tiny; tests: workloads"),
    ("mandelbrot", 640000, 0, 0, "bench QUICK=1"),
    ("mandelbrot", 1000000, 0, 0, "parlab default; bench"),
    ("mandelbrot", 2000000, 0, 0, "bench FULL=1"),
    ("nbody", 60, 3, 7, "tests: runner matrix"),
    ("nbody", 64, 2, 1, "bench tiny"),
    ("nbody", 300, 4, 1, "tests: workloads"),
    ("nbody", 2000, 10, 1, "parlab default"),
    ("nbody", 2300, 10, 1, "bench QUICK=1"),
    ("nbody", 2800, 10, 1, "bench"),
    ("nbody", 4000, 10, 1, "bench FULL=1"),
]

# --- Monte Carlo ------------------------------------------------------------------------------
MC_PIECE = 4000000    # points per unit of parallel work


def mc_hits(seed, lo, hi):
    """Hits among points lo..hi-1 of the seed's stream (workloads.py's generator, with the
    hit test x^2 + y^2 < 2^64 on exact integers)."""
    key, hits, limit = rng_key(seed), 0, 1 << 64
    z = (key + lo * GOLDEN) & MASK64
    for _ in range(lo, hi):
        # rng_at(key, i) = mix(key + (i+1)*golden): step the counter by one golden each
        # point instead of multiplying.
        z = (z + GOLDEN) & MASK64
        r = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        r = ((r ^ (r >> 27)) * 0x94D049BB133111EB) & MASK64
        r ^= r >> 31
        x, y = r >> 32, r & 0xFFFFFFFF
        if x * x + y * y < limit:
            hits += 1
    return hits


# --- mandelbrot -------------------------------------------------------------------------------
MAXITER = 500


def side_of(n):
    return math.isqrt(n)


def mandel_rows(n, row_lo, row_hi):
    """(iterations, checksum) of rows row_lo..row_hi-1 of the side x side image: pixel
    (row, col) at c = (-2 + 2.5 col/side) + (-1.25 + 2.5 row/side) i, escape radius 2,
    at most 500 iterations; checksum = sum of iterations x (row*side + col + 1)."""
    side = side_of(n)
    iters = total = 0
    fside = float(side)
    for row in range(row_lo, row_hi):
        ci = -1.25 + 2.5 * float(row) / fside
        base = row * side + 1
        for col in range(side):
            cr = -2.0 + 2.5 * float(col) / fside
            zr = zi = 0.0
            k = 0
            while k < MAXITER and zr * zr + zi * zi <= 4.0:
                t = zr * zr - zi * zi + cr
                zi = 2 * zr * zi + ci
                zr = t
                k += 1
            iters += k
            total += k * (base + col)
    return iters, total


# --- n-body -----------------------------------------------------------------------------------
DT = 1e-3
SOFT2 = 0.05 * 0.05


def unit(r):
    """A double in [0, 1) from the top 53 bits, exactly."""
    return float(r >> 11) * 2.0 ** -53


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def nbody_hash(n, steps, seed):
    """FNV-1a over the bytes of the positions, then the velocities, after `steps` steps of
    semi-implicit Euler with all-pairs softened gravity from a cold uniform cube."""
    key = rng_key(seed)

    def at(i):
        return mix((key + (i + 1) * GOLDEN) & MASK64)
    px, py, pz, vx, vy, vz = ([0.0] * n for _ in range(6))
    for i in range(n):
        px[i] = unit(at(6 * i)) - 0.5
        py[i] = unit(at(6 * i + 1)) - 0.5
        pz[i] = unit(at(6 * i + 2)) - 0.5
        vx[i] = 0.1 * (unit(at(6 * i + 3)) - 0.5)
        vy[i] = 0.1 * (unit(at(6 * i + 4)) - 0.5)
        vz[i] = 0.1 * (unit(at(6 * i + 5)) - 0.5)
    m = 1.0 / n
    sqrt = math.sqrt
    for _ in range(steps):
        nx, ny, nz = [0.0] * n, [0.0] * n, [0.0] * n
        others = list(zip(px, py, pz))
        for i in range(n):
            xi, yi, zi = px[i], py[i], pz[i]
            ax = ay = az = 0.0
            for xj, yj, zj in others:
                dx = xj - xi
                dy = yj - yi
                dz = zj - zi
                r2 = dx * dx + dy * dy + dz * dz + SOFT2
                inv = m / (r2 * sqrt(r2))
                ax += dx * inv
                ay += dy * inv
                az += dz * inv
            vx[i] += DT * ax
            vy[i] += DT * ay
            vz[i] += DT * az
            nx[i] = xi + DT * vx[i]
            ny[i] = yi + DT * vy[i]
            nz[i] = zi + DT * vz[i]
        px, py, pz = nx, ny, nz
    h = 0xCBF29CE484222325
    for a, b, c in ((px, py, pz), (vx, vy, vz)):
        flat = [v for i in range(n) for v in (a[i], b[i], c[i])]
        for byte in struct.pack("<%dd" % len(flat), *flat):
            h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


# --- the work, in parallel pieces ---------------------------------------------------------------

def piece(p):
    kind = p[0]
    if kind == "mc":
        return p, mc_hits(*p[1:])
    if kind == "mandel":
        return p, mandel_rows(*p[1:])
    return p, nbody_hash(*p[1:])


SMALL = 2000000    # --small: entries of at most this much work, a few seconds in all


def work(e):
    """About how many inner-loop rounds an entry costs: points, pixel iterations (127 a
    pixel on average), or pairs of bodies times steps."""
    w, n, steps, _, _ = e
    return n if w == "montecarlo" else 127 * n if w == "mandelbrot" else n * n * steps


def plan(entries):
    """Pieces of work, the longest first so that the pool ends together."""
    pieces = []
    for w, n, steps, seed, _ in entries:
        if w == "nbody":
            pieces.append((n * n * steps, ("nbody", n, steps, seed)))
    mc = {}
    for w, n, _, seed, _ in entries:
        if w == "montecarlo":
            mc.setdefault(seed, set()).add(n)
    for seed, sizes in mc.items():
        lo = 0
        for n in sorted(sizes):
            while lo < n:
                hi = min(n, lo + MC_PIECE)
                pieces.append((hi - lo, ("mc", seed, lo, hi)))
                lo = hi
    for w, n, _, _, _ in entries:
        if w == "mandelbrot":
            side = side_of(n)
            step = max(1, side // 16)
            for r in range(0, side, step):
                pieces.append((min(step, side - r) * side * 100, ("mandel", n, r, min(side, r + step))))
    pieces.sort(key=lambda x: -x[0])
    return [p for _, p in pieces]


def compute(entries, procs):
    with Pool(procs) as pool:
        done = dict(pool.imap_unordered(piece, plan(entries)))
    answers = {}
    for e in entries:
        w, n, steps, seed, _ = e
        if w == "nbody":
            answers[e] = "%016x" % done[("nbody", n, steps, seed)]
        elif w == "montecarlo":
            answers[e] = str(sum(v for k, v in done.items()
                                 if k[0] == "mc" and k[1] == seed and k[3] <= n))
        else:
            parts = [v for k, v in done.items() if k[0] == "mandel" and k[1] == n]
            answers[e] = "%d %d" % (sum(p[0] for p in parts), sum(p[1] for p in parts))
    return answers


def c_row(e, ans):
    w, n, steps, seed, why = e
    if w == "mandelbrot":
        iters, total = ans.split()
        vals = "%s, %s" % (iters, total)
    elif w == "nbody":
        vals = "0x%sull" % ans
    else:
        vals = ans
    seed_s = "UINT64_MAX" if seed == SEED_MAX else str(seed)
    return "    { %d, %d, %s, { %s } },%s/* %s */" % (n, steps, seed_s, vals, " ", why)


def parlab_answer(parlab, e):
    """bin/parlab's seq answer and verdict for the entry: (result, verified, check)."""
    w, n, steps, seed, _ = e
    cmd = [parlab, "run", "-w", w, "-r", "seq", "-n", str(n), "--format", "csv"]
    if steps:
        cmd += ["--steps", str(steps)]
    if w != "mandelbrot":
        cmd += ["--seed", str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()
    cols = out[-1].split(",") if out else [""] * 19
    return cols[15], cols[16], cols[17]


def main(argv):
    try:
        opts, args = getopt.getopt(argv, "j:", ["check=", "only=", "small"])
    except getopt.GetoptError as e:
        print("known_answers: %s" % e, file=sys.stderr)
        return 64
    procs, check, only, small = os.cpu_count() or 1, None, None, False
    for o, v in opts:
        if o == "-j":
            procs = int(v)
        elif o == "--check":
            check = v
        elif o == "--small":
            small = True
        else:
            only = v
    if args:
        print("known_answers: unexpected argument '%s'" % args[0], file=sys.stderr)
        return 64
    entries = [e for e in ENTRIES if only in (None, e[0]) and (not small or work(e) <= SMALL)]
    answers = compute(entries, procs)
    bad = 0
    for w in ("montecarlo", "mandelbrot", "nbody"):
        rows = [e for e in entries if e[0] == w]
        if not rows:
            continue
        print("/* %s: { size, steps, seed, { answer } } */" % w)
        for e in rows:
            print(c_row(e, answers[e]))
    if check:
        for e in entries:
            res, verified, how = parlab_answer(check, e)
            want = answers[e].split()[-1]   # mandelbrot prints the checksum only
            ok = res == want and verified == "yes" and how == "recorded"
            bad += not ok
            print("%s %s N=%d steps=%d seed=%d: python %s, parlab %s (verified=%s, check=%s)"
                  % ("ok  " if ok else "FAIL", e[0], e[1], e[2], e[3], want, res, verified, how),
                  file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
