#!/usr/bin/env python3
"""verdict_labs.py: the lab side of scripts/verdict.py and scripts/lab.py on hand-made
figures: judge_within, judge_bool, combine, grade_prediction (the log-ratio wording on
planted measured/predicted pairs, the key's bands), the trust line, lab.py's Measured
values (an interval carried through scaling and Karp-Flatt), choices graded as choices,
each kind of bad predict.txt, the predictions kept with a run, the worker sweep's
counts and per-worker busy bars from a trace, and the grading of a student's code
(judge_min_ratio, scripts/student.py's verified and graded, the one line of a compiler's
output). No timing.

    $PYTHON tests/verdict_labs.py      (tests/test_labs.c runs it; exit 0: all hold)
"""
import contextlib
import glob
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import verdict  # noqa: E402
import lab  # noqa: E402
import student  # noqa: E402

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
    """A numeric prediction against planted measured values: the log-ratio wording."""

    def test_right_within(self):
        v = verdict.grade_prediction(1.9, (1.92, 1.87, 1.96))
        self.assertEqual(v.status, verdict.PASS)
        self.assertEqual(v.reason, "right within the measurement's interval [1.87, 1.96]")

    def test_2700_times_too_low(self):
        v = verdict.grade_prediction(0.01, (27.0, 25.0, 29.0))
        self.assertEqual(v.status, verdict.FAIL)
        self.assertEqual(v.reason, "2,700× too low (the measurement's interval [25, 29])")

    def test_log_ratio_is_measured_over_predicted(self):
        v = verdict.grade_prediction(6.2, (2.0, 1.9, 2.1))
        self.assertEqual(v.status, verdict.FAIL)
        self.assertTrue(v.reason.startswith("3.1× too high ("), v.reason)
        v = verdict.grade_prediction(0.5, (2.0, 1.9, 2.1))
        self.assertTrue(v.reason.startswith("4× too low ("), v.reason)
        # a 9x miss reads as one, not as "-89%"
        self.assertTrue(verdict.grade_prediction(1.0, (9.0, 8.9, 9.1)).reason.startswith(
            "9× too low"))

    def test_no_ratio_across_zero(self):
        v = verdict.grade_prediction(0.05, (-0.01, -0.02, 0.01))
        self.assertEqual(v.status, verdict.FAIL)
        self.assertTrue(v.reason.startswith("off by +0.06"), v.reason)

    def test_busy_wide_interval_is_inconclusive_never_wrong(self):
        for pred in (5.0, 0.1, 1.0):    # above, below and inside [0.5, 3]
            v = verdict.grade_prediction(pred, (1.0, 0.5, 3.0), BUSY)
            self.assertEqual(v.status, verdict.INCONCLUSIVE, pred)
            self.assertIn("machine busy", v.reason)
            self.assertNotIn("right", v.reason)
            self.assertEqual(v.hint, verdict.HINT_QUIET)

    def test_quiet_wide_interval_cannot_call_a_guess_right(self):
        v = verdict.grade_prediction(1.0, (1.0, 0.5, 3.0))
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("spans 6×: too wide to grade a guess", v.reason)
        self.assertNotIn("right", v.reason)
        self.assertEqual(v.hint, verdict.HINT_MORE)
        # outside it, a quiet run still shows the miss
        self.assertEqual(verdict.grade_prediction(30.0, (1.0, 0.5, 3.0)).status, verdict.FAIL)

    def test_busy_is_never_right_nor_a_miss(self):
        for pred in (1.0, 1.9):
            v = verdict.grade_prediction(pred, (1.0, 0.97, 1.03), BUSY)
            self.assertEqual(v.status, verdict.INCONCLUSIVE)
            self.assertNotIn("right", v.reason)
            self.assertIn("machine busy", v.reason)

    def test_the_keys_band(self):
        v = verdict.grade_prediction(1.2, (0.99, 0.97, 1.01), BUSY, band=(1.0, 1.3))
        # the key accepts it, busy or not; the line still says what this run measured
        self.assertEqual((v.status, v.reason), (verdict.PASS, "right within the key's band "
                                                "1 to 1.3; this run's value is 1.21× lower"))
        v = verdict.grade_prediction(30000, None, (), band=(20000, 60000), point=35720)
        self.assertEqual((v.status, v.reason), (verdict.PASS, "right within the key's band "
                                                "20,000 to 60,000"))
        v = verdict.grade_prediction(2.0, (0.99, 0.97, 1.01), band=(1.0, 1.3))
        self.assertEqual(v.status, verdict.FAIL)
        self.assertIn("2.02× too high", v.reason)
        self.assertIn("the key accepts 1 to 1.3", v.reason)
        v = verdict.grade_prediction(0.16, None, (), band=(0.16, 0.16), point=0.1623)
        self.assertEqual((v.status, v.reason), (verdict.PASS, "right: the key's figure 0.16"))

    def test_single_figure(self):
        v = verdict.grade_prediction(1, None, (), band=None, point=1.001)
        self.assertEqual((v.status, v.reason), (verdict.PASS, "right: the measured figure"))
        v = verdict.grade_prediction(0.01, None, (), band=None, point=27.0)
        self.assertIsNone(v.status)
        self.assertTrue(v.reason.startswith("2,700× too low (a single figure"), v.reason)
        v = verdict.grade_prediction(0.01, None, (), band=(10, 50), point=27.0)
        self.assertEqual(v.status, verdict.FAIL)
        self.assertEqual(v.reason, "2,700× too low (the key accepts 10 to 50)")
        v = verdict.grade_prediction(0.01, None, BUSY, band=(10, 50), point=27.0)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)

    def test_factor_text(self):
        for r, want in ((2700.4, "2,700"), (2749, "2,700"), (45678, "46,000"), (13.4, "13"),
                        (3.14159, "3.14"), (3.1, "3.1"), (1.04, "1.04"), (1.0004, "1.0004")):
            self.assertEqual(verdict.times_text(r), want)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


class PredictFile(unittest.TestCase):
    """Each kind of bad predict.txt: one error naming its line and the rule; the rest read."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="parlab-predict-")
        self.addCleanup(shutil.rmtree, self.dir)

    def read(self, data):
        return lab.read_predict(write(os.path.join(self.dir, "predict.txt"), data))

    def assertOneError(self, p, line, text):
        self.assertEqual(len(p.errors), 1, p.errors)
        self.assertEqual(p.errors[0][0], line)
        self.assertIn(text, p.errors[0][1])

    def test_not_utf8(self):
        p = self.read(b"a = 1\nb = caf\xe9\nc = 3\n")
        self.assertOneError(p, 2, "not UTF-8 text (byte 0xE9 at column 8)")
        self.assertEqual(p.values(), {"a": "1", "c": "3"})
        self.assertRegex(p.lines()[0], r"predict\.txt:2: not UTF-8")

    def test_utf16_is_one_line(self):
        p = self.read("a = 1\n".encode("utf-16"))
        self.assertOneError(p, 1, "UTF-16 text (byte-order mark FF FE): save the file as UTF-8")

    def test_folder(self):
        p = lab.read_predict(self.dir)
        self.assertOneError(p, None, "a folder, not a predict.txt file")
        self.assertEqual(p.lines(), ["%s: a folder, not a predict.txt file" % lab.show(self.dir)])

    def test_missing_file(self):
        self.assertOneError(lab.read_predict(os.path.join(self.dir, "none")), None,
                            "no such file")

    def test_bom_is_accepted_and_dropped(self):
        p = self.read(b"\xef\xbb\xbfspeedup_fork = 1.9\r\nfastest = fork\r\n")
        self.assertEqual(p.errors, [])
        self.assertEqual(p.values(), {"speedup_fork": "1.9", "fastest": "fork"})

    def test_missing_equals(self):
        p = self.read(b"# lab\na = 1\nthis has no equals sign\nb = 2\n")
        self.assertOneError(p, 3, "not `key = value`: this has no equals sign")
        self.assertEqual(p.values(), {"a": "1", "b": "2"})

    def test_duplicate_key_keeps_the_first(self):
        p = self.read(b"a = 1\nb = 2\na = 3\n")
        self.assertOneError(p, 3, "a given again (first on line 1, which is the one graded)")
        self.assertEqual(p.entries["a"], ("1", 1))

    def test_blank_is_missing_not_an_error(self):
        p = self.read(b"a =\nb = 2  # sure\n")
        self.assertEqual((p.errors, p.values(), p.entries), ([], {"a": "", "b": "2"},
                                                             {"b": ("2", 2)}))

    def test_numbers(self):
        for text, rule in (("nan", "not a finite number"), ("-inf", "not a finite number"),
                           ("Infinity", "not a finite number"),
                           ("1e400", "not a finite number (beyond"),
                           ("130%", "a percentage: write the number itself (1.3 for 130%)"),
                           ("8,000", "a comma"), ("soon", "not a number"),
                           ("1.8 s", "not a number"), ("0x10", "not a number"), ("", "not a number")):
            v, got = lab.parse_number(text)
            self.assertIsNone(v, text)
            self.assertTrue(got.startswith(rule), (text, got))
        for text, want in (("1.8", 1.8), ("1.8x", 1.8), ("2×", 2.0), (".5", 0.5), ("2e6", 2e6),
                           ("-0.01", -0.01), ("8000", 8000.0)):
            self.assertEqual(lab.parse_number(text), (want, None), text)


class Choices(unittest.TestCase):
    def setUp(self):
        self.env = lab.Env({"s": [], "_meta": {"cores": 2}})

    def test_a_choice_is_graded_as_a_choice(self):
        sp = {"choices": ["1", "42"]}
        for pred in ("1", "1.0"):
            v, rule = lab.grade(pred, sp, 1.0, self.env)
            self.assertEqual((v.status, v.reason, rule), (verdict.PASS, "right", None))
        v, rule = lab.grade("42", sp, 1.0, self.env)
        self.assertEqual((v.status, v.reason), (verdict.FAIL, "wrong"))
        self.assertEqual(lab.grade("41", sp, 1.0, self.env), (None, "not one of 1 | 42"))
        self.assertIsNone(lab.grade("1", sp, float("nan"), self.env)[0].status)

    def test_pointer_fork_is_a_choice(self):
        spec = lab.find_lab(5)
        self.assertEqual(spec["predictions"]["pointer_fork"]["choices"], ["1", "42"])


class Bands(unittest.TestCase):
    def test_every_numeric_prediction_has_the_keys_band(self):
        for d in lab.lab_dirs():
            spec = lab.find_lab(int(os.path.basename(d)[:2]))
            bands = lab.key_bands(spec)
            for key, sp in spec["predictions"].items():
                if sp.get("choices"):
                    self.assertNotIn(key, bands)
                else:
                    self.assertIn(key, bands, "%s: %s has no range in KEY.md" % (spec["name"], key))
                    self.assertLessEqual(bands[key][0], bands[key][1])

    def test_read_from_the_key(self):
        self.assertEqual(lab.key_bands(lab.find_lab(4))["ns_manager"], (20000.0, 60000.0))
        self.assertEqual(lab.key_bands(lab.find_lab(5))["oversub_slowdown"], (1.0, 1.3))
        self.assertEqual(lab.key_bands(lab.find_lab(5))["faults_per_page"], (1.0, 1.0))
        self.assertEqual(lab.key_bands(lab.find_lab(2))["t_thread_32"], (0.02, 0.02))

    def test_every_choice_is_named_in_the_template(self):
        for d in lab.lab_dirs():
            spec = lab.find_lab(int(os.path.basename(d)[:2]))
            with open(os.path.join(d, "predict.txt"), encoding="utf-8") as f:
                text = f.read()
            for key, sp in spec["predictions"].items():
                before = text[:text.index("\n%s =" % key)]
                comment = before[before.rindex("# step"):]
                for c in sp.get("choices", []):
                    self.assertIn(c, comment, "%s: %s" % (spec["name"], key))


def reference_run(name):
    runs = sorted(glob.glob(os.path.join(ROOT, "results", "reference", "labs", name, "*",
                                         "meta.json")))
    return os.path.dirname(runs[-1])


def check(*argv, **kw):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = lab.cmd_check(*argv, **kw)
    return rc, out.getvalue()


class BadPredictCheck(unittest.TestCase):
    """A check on the committed lab 1 run with every kind of bad line at once: each named
    with its line number and rule, the good lines still graded, no traceback."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="parlab-predict-")
        cls.path = write(os.path.join(cls.dir, "predict.txt"), b"\n".join([
            b"\xef\xbb\xbf# lab 1, a BOM first",         # 1
            b"speedup_fork = 1.9",                         # 2: graded
            b"speedup_thread = nan",                       # 3
            b"speedup_epoll = 130%",                       # 4
            b"cpu_per_wall_epoll = 1e400",                 # 5
            b"fastest = thr\xe9ad",                        # 6
            b"speedup_fork = 2.0",                         # 7
            b"no equals sign here",                        # 8
            b"speedup_frok = 3",                           # 9
            b"fastest = inf",                              # 10
            b""]))
        cls.rc, cls.out = check("1", reference_run("01-cpu"), cls.path)
        shutil.rmtree(cls.dir)

    def line(self, n):
        return "  malformed: %s:%d: " % (lab.show(self.path), n)

    def test_exit_as_without_the_bad_lines(self):
        self.assertIn(self.rc, (0, 2))
        self.assertNotIn("Traceback", self.out)
        self.assertIn("checks on the measured numbers:", self.out)

    def test_bom_no_error(self):
        self.assertNotIn(":1: ", self.out)

    def test_good_line_graded(self):
        # right within the measured interval on a quiet run, within the key's band on a busy
        # one (the committed run's figure is whatever that run measured)
        self.assertRegex(self.out, r"speedup_fork +predicted 1.9 +measured [\d.]+ +right within")

    def test_nan(self):
        self.assertIn(self.line(3) + "speedup_thread = nan: not a finite number\n", self.out)

    def test_percent(self):
        self.assertIn(self.line(4) + "speedup_epoll = 130%: a percentage: write the number "
                      "itself (1.3 for 130%)\n", self.out)

    def test_1e400(self):
        self.assertIn(self.line(5) + "cpu_per_wall_epoll = 1e400: not a finite number", self.out)

    def test_encoding(self):
        self.assertIn(self.line(6) + "not UTF-8 text", self.out)

    def test_duplicate(self):
        self.assertIn(self.line(7) + "speedup_fork given again (first on line 2", self.out)

    def test_missing_equals(self):
        self.assertIn(self.line(8) + "not `key = value`: no equals sign here\n", self.out)

    def test_unknown_key(self):
        self.assertIn(self.line(9) + "unknown key speedup_frok (did you mean speedup_fork?)\n",
                      self.out)

    def test_choice_not_a_number(self):
        self.assertIn(self.line(10) + "fastest = inf: not one of seq | fork | thread | epoll\n",
                      self.out)

    def test_one_line_each_in_order(self):
        bad = [l for l in self.out.splitlines() if l.startswith("  malformed:")]
        self.assertEqual([int(l.split(":")[2]) for l in bad], [3, 4, 5, 6, 7, 8, 9, 10])

    def test_a_folder(self):
        rc, out = check("1", reference_run("01-cpu"), ROOT + "/labs")
        self.assertIn(rc, (0, 2))
        self.assertIn("  malformed: labs: a folder, not a predict.txt file\n", out)
        self.assertIn("no prediction yet for: speedup_fork", out)
        self.assertIn("checks on the measured numbers:", out)


class KeptPredictions(unittest.TestCase):
    """make lab-N keeps predict.txt with the run; the check grades that copy and names what
    changed since."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="parlab-kept-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.run_dir = os.path.join(self.dir, "run")
        shutil.copytree(reference_run("01-cpu"), self.run_dir)
        self.live = write(os.path.join(self.dir, "live.txt"),
                          b"# mine\nspeedup_fork = 1.9\nspeedup_thread =\nfastest = fork\n")
        os.utime(self.live, (1e9, 1e9))
        self.rec = lab.keep_predictions(self.live, self.run_dir)
        with open(os.path.join(self.run_dir, "meta.json")) as f:
            meta = json.load(f)
        meta["predict"] = self.rec
        with open(os.path.join(self.run_dir, "meta.json"), "w") as f:
            json.dump(meta, f)
        self.spec = lab.find_lab(1)

    def test_copy_with_time_and_hash(self):
        kept = os.path.join(self.run_dir, "predict.txt")
        with open(kept, "rb") as a, open(self.live, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertEqual(os.stat(kept).st_mtime, 1e9)
        self.assertEqual(self.rec["mtime"], 1e9)
        self.assertEqual(self.rec["sha256"], lab.sha256_of(self.live))
        self.assertEqual(self.rec["kept"], "predict.txt")

    def test_not_kept_never_fails(self):
        rec = lab.keep_predictions(self.dir, self.run_dir)
        self.assertIn("a folder", rec["not_kept"])

    def test_unchanged(self):
        path, notes = lab.which_predictions(self.spec, self.run_dir, None, self.live)
        self.assertEqual(path, os.path.join(self.run_dir, "predict.txt"))
        self.assertEqual(len(notes), 1)
        self.assertTrue(notes[0].startswith("predictions kept with the run: last edited "))

    def test_changed_after_the_run(self):
        write(self.live, b"# mine\nspeedup_fork = 2.0\nspeedup_thread = 1.8\nfastest = fork\n")
        path, notes = lab.which_predictions(self.spec, self.run_dir, None, self.live)
        self.assertEqual(path, os.path.join(self.run_dir, "predict.txt"))
        self.assertIn("predictions changed after the run: line 2 speedup_fork 1.9 → 2.0", notes)
        self.assertIn("predictions changed after the run: line 3 speedup_thread (blank) → 1.8",
                      notes)
        self.assertTrue(notes[-1].startswith("graded: the predictions kept with the run"))
        rc, out = check("1", self.run_dir, None, live=self.live)
        self.assertIn("line 2 speedup_fork 1.9 → 2.0", out)
        self.assertRegex(out, r"speedup_fork +predicted 1.9 ")
        self.assertIn("no prediction yet for: speedup_thread", out)

    def test_told_grades_the_file_given(self):
        told = write(os.path.join(self.dir, "told.txt"), b"speedup_fork = 2.0\n")
        path, notes = lab.which_predictions(self.spec, self.run_dir, told, self.live)
        self.assertEqual(path, told)
        self.assertIn("predictions changed after the run: line 1 speedup_fork 1.9 → 2.0", notes)

    def test_kept_copy_edited(self):
        write(os.path.join(self.run_dir, "predict.txt"), b"speedup_fork = 1.92\n")
        _, notes = lab.which_predictions(self.spec, self.run_dir, None, self.live)
        self.assertTrue(any("was edited after the run" in n for n in notes), notes)

    def test_older_run_grades_the_live_file(self):
        # a run made before make lab-N kept predict.txt: no copy, no "predict" in meta.json
        older = os.path.join(self.dir, "older")
        shutil.copytree(reference_run("01-cpu"), older)
        if os.path.exists(os.path.join(older, "predict.txt")):
            os.unlink(os.path.join(older, "predict.txt"))
        with open(os.path.join(older, "meta.json")) as f:
            meta = json.load(f)
        meta.pop("predict", None)
        with open(os.path.join(older, "meta.json"), "w") as f:
            json.dump(meta, f)
        path, notes = lab.which_predictions(self.spec, older, None, self.live)
        self.assertEqual(path, self.live)
        self.assertIn("kept no copy of predict.txt", notes[0])


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


class Sweep(unittest.TestCase):
    def test_worker_counts(self):
        self.assertEqual(lab.worker_sweep(1), [1, 2, 3, 4])
        self.assertEqual(lab.worker_sweep(2), [1, 2, 3, 4, 6, 8])
        self.assertEqual(lab.worker_sweep(4), [1, 2, 3, 4, 5, 8, 12, 16])
        self.assertEqual(lab.worker_sweep(16), [1, 2, 4, 8, 16, 17, 32, 48, 64])

    def test_each_value_of_several_words(self):
        step = {"id": "s", "kind": "cmd", "args": "run {w}", "each": {"w": ["{WSWEEP}"]}}
        cmds = list(lab.step_commands({}, step, {"WSWEEP": "1 2 4", "REPEAT": "1"}))
        self.assertEqual([p for p, _, _ in cmds], [{"w": "1"}, {"w": "2"}, {"w": "4"}])

    def test_busy_bars_of_a_trace(self):
        # W = 2: worker 0 inside tasks 0.3 s, worker 1 0.5 s, the last task ends at 0.6 s;
        # W = 3: worker 2 ran no task, and is a bar of 0 s
        ms = 1000000
        rows = [{"p_workers": "2", "worker": "0", "start_ns": "0", "end_ns": str(300 * ms)},
                {"p_workers": "2", "worker": "1", "start_ns": str(100 * ms),
                 "end_ns": str(400 * ms)},
                {"p_workers": "2", "worker": "1", "start_ns": str(400 * ms),
                 "end_ns": str(600 * ms)},
                {"p_workers": "3", "worker": "1", "start_ns": "0", "end_ns": str(200 * ms)}]
        env = lab.Env({"b": rows, "_meta": {"cores": 2}})
        busy = env.busy("b", workers="2")
        self.assertAlmostEqual(busy[0], 0.3)
        self.assertAlmostEqual(busy[1], 0.5)
        self.assertAlmostEqual(env.trace_wall("b", workers="2"), 0.6)
        self.assertAlmostEqual(env.imbalance("b", workers="2"), 0.5 / 0.4)
        got = [(w, k, round(b, 6), round(t, 6)) for w, k, b, t in env.bars("b")]
        self.assertEqual(got, [(2, 0, 0.3, 0.6), (2, 1, 0.5, 0.6), (3, 0, 0.0, 0.2),
                               (3, 1, 0.2, 0.2), (3, 2, 0.0, 0.2)])


class StudentGrade(unittest.TestCase):
    """CS149-style: best run over best run below 1.2 passes; a fail needs quiet runs and the
    means' ratio above 1 beyond its interval."""
    REF = [1.00, 1.02, 1.05, 1.01, 1.03]

    def test_within_the_band_passes_on_the_best_runs(self):
        v = verdict.judge_min_ratio([1.15, 1.5, 1.6, 1.4, 1.7], self.REF, 1.2, [], "s / r")
        self.assertEqual(v.status, verdict.PASS)     # means 1.47x: the best runs decide
        self.assertIn("s / r 1.15× (the best of 5 runs against the best of 5), < 1.2", v.reason)

    def test_slower_fails_when_quiet(self):
        v = verdict.judge_min_ratio([1.40, 1.42, 1.45, 1.41, 1.43], self.REF, 1.2, [0.0] * 10)
        self.assertEqual(v.status, verdict.FAIL)
        self.assertIn("slower than the reference", v.reason)

    def test_a_busy_machine_passes_only_below_the_band(self):
        v = verdict.judge_min_ratio([1.1, 1.2, 1.2], [1.0, 1.1, 1.1], 1.2, BUSY)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)    # load flattens 1.4x to 1.1x
        self.assertIn("toward 1", v.reason)
        v = verdict.judge_min_ratio([0.95, 1.0, 1.0], [1.0, 1.1, 1.1], 1.2, BUSY)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)    # even a serial 2x reads 0.95x
        v = verdict.judge_min_ratio([0.5, 0.6, 0.6], [1.0, 1.1, 1.1], 1.2, BUSY)
        self.assertEqual(v.status, verdict.PASS)            # faster by more than the band

    def test_slower_is_inconclusive_when_busy(self):
        v = verdict.judge_min_ratio([1.40, 1.42, 1.45, 1.41, 1.43], self.REF, 1.2, BUSY)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertEqual(v.hint, verdict.HINT_QUIET)

    def test_best_runs_apart_but_means_not_is_inconclusive(self):
        v = verdict.judge_min_ratio([1.25, 1.3, 1.3], [1.0, 1.6, 1.6], 1.2, [0.0] * 6)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertIn("reaches 1", v.reason)

    def test_too_few_runs_is_inconclusive(self):
        v = verdict.judge_min_ratio([9.0], [1.0], 1.2)
        self.assertEqual(v.status, verdict.INCONCLUSIVE)
        self.assertEqual(v.hint, verdict.HINT_MORE)

    def env(self, rows):
        return lab.Env({"s": rows, "_meta": {"cores": 2}})

    def test_verified_reads_rows_counts_and_errors(self):
        g = student.funcs(self.env([
            {"p_split": "student", "verified": "yes", "wall_s": "1"},
            {"p_split": "student", "verified": "yes", "wall_s": "1"},
            {"p_split": "given", "verified": "no", "wall_s": "1"}]))
        self.assertEqual(g["verified"]("s", split="student").status, verdict.PASS)
        self.assertEqual(g["verified"]("s", split="given").status, verdict.FAIL)
        self.assertEqual(g["verified"]("s", split="nobody").status, verdict.INCONCLUSIVE)
        rows = [
            {"section": "student", "what": "thread final count (expected 40)", "min": "40",
             "max": "40", "n": "20"},
            {"section": "student", "what": "thread final count (expected 40)", "min": "31",
             "max": "40"}]
        g = student.funcs(self.env(rows))
        self.assertIn("wrong in some of 21 runs", g["verified"]("s", section="student").reason)
        g = student.funcs(self.env(rows[:1]))
        self.assertEqual(g["verified"]("s", section="student").reason, "right in 20 of 20 runs")
        old = {k: v for k, v in rows[0].items() if k != "n"}   # a run from before schema 2
        old["repeat"] = "20"
        g = student.funcs(self.env([old]))
        self.assertEqual(g["verified"]("s", section="student").reason, "right in 20 of 20 runs")
        g = student.funcs(self.env([{"section": "student", "error": "parlab: s.c: wrong"}]))
        v = g["verified"]("s", section="student")
        self.assertEqual((v.status, v.reason), (verdict.FAIL, "parlab: s.c: wrong"))
        first = g["verified"]("s", section="student")
        v = g["graded"]([1.0] * 3, [1.0] * 3, "x", first=first)
        self.assertEqual(v.status, verdict.FAIL)
        self.assertIn("not timed", v.reason)

    def test_first_error_is_one_line(self):
        out = ("labs/x/student/a.c: In function 'student_claim':\n"
               "labs/x/student/a.c:6:12: error: expected ';' before '*' token\n"
               "    6 |     *lo = 0\n")
        self.assertEqual(student.first_error(out),
                         "labs/x/student/a.c:6:12: error: expected ';' before '*' token")
        self.assertIn("undefined reference", student.first_error(
            "/usr/bin/ld: /tmp/cc.o: in function `f':\na.c:(.text+0x5): undefined "
            "reference to `nope'\ncollect2: error: ld returned 1 exit status\n"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
