#!/usr/bin/env python3
"""verdict_labs.py: the lab side of scripts/verdict.py and scripts/lab.py on hand-made
figures: judge_within, judge_bool, combine, grade_prediction, the trust line, and lab.py's
Measured values (an interval carried through scaling and Karp-Flatt). No timing.

    $PYTHON tests/verdict_labs.py      (tests/test_labs.c runs it; exit 0: all hold)
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import verdict  # noqa: E402
import lab  # noqa: E402

BUSY = [1.0, 1.0, 0.9]


class Within(unittest.TestCase):
    def test_inside_passes(self):
        v = verdict.judge_within((1.0, 0.95, 1.05), 0.8, 1.25, "x")
        self.assertEqual(v.status, verdict.PASS)
        self.assertIn("x 1× [0.95, 1.05] 95% CI, within 0.8 to 1.25", v.reason)

    def test_outside_fails_when_quiet(self):
        v = verdict.judge_within((1.9, 1.85, 1.95), 0.8, 1.25, "x", [0.0, 0.1])
        self.assertEqual(v.status, verdict.FAIL)
        self.assertIn("outside 0.8 to 1.25", v.reason)

    def test_outside_is_inconclusive_when_busy(self):
        v = verdict.judge_within((1.9, 1.85, 1.95), 0.8, 1.25, "x", BUSY)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("machine busy", v.reason)
        self.assertEqual(v.hint, verdict.HINT_QUIET)

    def test_straddling_is_inconclusive(self):
        v = verdict.judge_within((1.2, 1.1, 1.3), 0.8, 1.25, "x")
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("spans an end of 0.8 to 1.25", v.reason)
        self.assertEqual(v.hint, verdict.HINT_MORE)

    def test_no_interval_is_inconclusive(self):
        v = verdict.judge_within(None, 0.8, 1.25, "x")
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("too few runs", v.reason)


class BoolAndCombine(unittest.TestCase):
    def test_bool(self):
        self.assertEqual(verdict.judge_bool(True, "slow").status, verdict.PASS)
        self.assertEqual(verdict.judge_bool(False, "slow", [0.0]).status, verdict.FAIL)
        v = verdict.judge_bool(False, "slow", BUSY)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertTrue(v.reason.startswith("slow, but machine busy"))

    def test_combine(self):
        p = verdict.Verdict(verdict.PASS, "a")
        f = verdict.Verdict(verdict.FAIL, "b")
        i = verdict.Verdict(verdict.INCONCLUSIVE, "c", "h")
        self.assertEqual(verdict.combine([p, p]).status, verdict.PASS)
        v = verdict.combine([p, i])
        self.assertEqual((v.status, v.reason, v.hint), (verdict.INCONCLUSIVE, "c", "h"))
        v = verdict.combine([p, f, i])
        self.assertEqual((v.status, v.reason), (verdict.FAIL, "b"))


class Predictions(unittest.TestCase):
    def test_right_within(self):
        v = verdict.grade_prediction(1.9, (1.92, 1.87, 1.96))
        self.assertEqual(v.status, verdict.PASS)
        self.assertEqual(v.reason, "right: within the measured 95% CI [1.87, 1.96]")

    def test_log_ratio_outside(self):
        v = verdict.grade_prediction(5.0, (2.0, 1.9, 2.0))
        self.assertEqual(v.status, verdict.FAIL)
        self.assertTrue(v.reason.startswith("2.5× too high"))
        v = verdict.grade_prediction(0.5, (2.0, 1.9, 2.1))
        self.assertTrue(v.reason.startswith("3.8× too low"))

    def test_busy_is_never_right_nor_a_miss(self):
        for pred in (1.0, 1.9):
            v = verdict.grade_prediction(pred, (1.0, 0.97, 1.03), BUSY)
            self.assertEqual(v.status, verdict.INCONCLUSIVE)
            self.assertNotIn("right", v.reason)
            self.assertIn("machine busy", v.reason)


class Trust(unittest.TestCase):
    def test_lines(self):
        self.assertEqual(verdict.trust_line(24, 0, what="runs"), "quiet: 0 of 24 runs disturbed")
        self.assertEqual(verdict.trust_line(24, 20, 3, what="runs", judged="check"),
                         "busy: 20 of 24 runs disturbed, 3 checks inconclusive")
        self.assertEqual(verdict.trust_line(5, 1, 1), "busy: 1 of 5 points disturbed, "
                         "1 finding inconclusive")


class Measured(unittest.TestCase):
    def setUp(self):
        rows = [{"p_r": r, "wall_s": str(t), "lab_cmd": str(i), "other_cpu": "0.5"}
                for i, (r, t) in enumerate([("seq", 2.0), ("seq", 2.1), ("seq", 1.9),
                                            ("fork", 1.0), ("fork", 1.05), ("fork", 0.95)])]
        self.env = lab.Env({"s": rows, "_meta": {"cores": 2}})

    def test_ratio_carries_interval_and_loads(self):
        m = self.env.ratio(self.env.times("s", r="seq"), self.env.times("s", r="fork"))
        ci = verdict.ratio_ci([2.0, 2.1, 1.9], [1.0, 1.05, 0.95])
        self.assertAlmostEqual(float(m), 2.0)
        self.assertEqual((m.lo, m.hi), (ci[1], ci[2]))
        self.assertEqual(m.loads, [0.5] * 6)
        # beyond the bound it passes, busy or not; a would-be fail on busy runs does not
        self.assertEqual(self.env.above(m, 1.2, "s").status, verdict.PASS)
        v = self.env.below(m, 1.5, "s")
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("during 6 of 6 runs", v.reason)

    def test_scaling_and_karpflatt_map_the_interval(self):
        m = lab.Measured(2.0, 1.8, 2.2, [0.0])
        k = 1e6 * m / 4
        self.assertEqual((float(k), k.lo, k.hi), (5e5, 4.5e5, 5.5e5))
        e = self.env.karpflatt(m, 2)
        self.assertAlmostEqual(float(e), 0.0)
        self.assertAlmostEqual(e.lo, (1 / 2.2 - 0.5) / 0.5)     # the high speedup: low e
        self.assertAlmostEqual(e.hi, (1 / 1.8 - 0.5) / 0.5)
        self.assertEqual(self.env.within(e, -0.1, 1.1, "e").status, verdict.PASS)

    def test_check_results_become_verdicts(self):
        self.assertEqual(lab.as_verdict(True).status, verdict.PASS)
        self.assertEqual(lab.as_verdict(False).status, verdict.FAIL)
        self.assertEqual(lab.as_verdict([True, verdict.Verdict(verdict.INCONCLUSIVE, "r")])
                         .status, verdict.INCONCLUSIVE)


if __name__ == "__main__":
    unittest.main(verbosity=1)
