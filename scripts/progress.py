#!/usr/bin/env python3
"""progress.py: the one way parlab's scripts show where a long job stands, a line per step:

    [3/40 0:12 elapsed, ~2:28 left] tasks: fork T=1000 12.3 ns a task (11.9 … 13.1)

the step's number of the whole, the time since the first step began and, from the mean time
per step so far, the time left. A step's line is written as it starts (what runs now) and
its result is added when it ends, so that a log shows both. On a terminal the line is kept
to its width (the step's name shortened at a word with an ellipsis, or, where the result
would not fit even so, the line wrapped at words) and rewritten in place ("\\r") with the
result; anywhere else (a log, a pipe) lines are plain, never "\\r", never shortened.
Text that must stay whole but may be long (a flag's explanation) is shortened or wrapped at
word boundaries here too: no word is ever cut. harness/progress.c is the C side, for parlab's
own long commands.

As a module (scripts/lab.py): Progress(total, stream).start(label) ... .end(result), or
prefix(i, n, t0). From the shell, through scripts/progress.sh (sourced), or directly:

    progress.py start [--done D] I N T0 LABEL   step I of N begins (T0: $EPOCHREALTIME at
                                            step 1; D: steps finished, if more than I - 1)
    progress.py end I N T0 LABEL RESULT     step I ended with RESULT
    progress.py hms SECONDS                 SECONDS as m:ss (h:mm:ss from an hour on)
    progress.py shorten WIDTH [TEXT]        TEXT (or each line of stdin) within WIDTH columns,
                                            whole words, "…" where it was cut
    progress.py wrap WIDTH [INDENT] [TEXT]  TEXT (or stdin) wrapped at words; later lines
                                            indented by INDENT spaces
Lines go to stdout: the caller sends them where its progress goes. Exit 64 on bad input.
"""
import os
import sys
import textwrap
import time

ELLIPSIS = " …"


def hms(s):
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    s = max(0, int(s))
    if s >= 3600:
        return "%d:%02d:%02d" % (s // 3600, s % 3600 // 60, s % 60)
    return "%d:%02d" % (s // 60, s % 60)


def prefix(i, n, t0, done=None, now=None):
    """"[i/n 0:12 elapsed, ~0:30 left]": t0 is the wall clock (time.time()) when step 1
    began; done, the steps finished (i - 1 as step i starts, the default; i as it ends).
    The time left is the mean time per finished step times the steps to go; none before
    a step has finished."""
    now = time.time() if now is None else now
    done = i - 1 if done is None else done
    e = max(0.0, now - t0)
    s = "[%d/%d %s elapsed" % (i, n, hms(e))
    if done > 0 and n >= done:
        s += ", ~%s left" % hms(e / done * (n - done))
    return s + "]"


def shorten(text, width):
    """text on one line within width columns: whole words, and " …" where words were left
    out. A first word longer than width is left out whole: just "…"."""
    return textwrap.shorten(text, width=max(width, len(ELLIPSIS)), placeholder=ELLIPSIS,
                            break_long_words=False, break_on_hyphens=False)


def wrap(text, width, indent=0):
    """text broken at word boundaries into lines of at most width columns (a word longer
    than that stands alone on its line, whole); later lines indented by indent spaces."""
    return "\n".join(textwrap.wrap(text, width=max(width, indent + 1),
                                   subsequent_indent=" " * indent,
                                   break_long_words=False, break_on_hyphens=False)) or ""


def columns(stream):
    """The terminal's width when stream is one, else None (plain lines)."""
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return None


class Progress:
    """Steps 1..total on stream: start(label) as each begins, end(result) as it ends.
    lead, if any, comes before the prefix ("lab 3: ")."""

    def __init__(self, total, stream=sys.stdout, t0=None, lead=""):
        self.total, self.stream, self.i, self.lead = total, stream, 0, lead
        self.t0 = time.time() if t0 is None else t0
        self.label = ""

    def start(self, label):
        self.i += 1
        self.label = label
        self.stream.write(start_text(self.i, self.total, self.t0, label, columns(self.stream),
                                     self.lead))
        self.stream.flush()

    def end(self, result=""):
        self.stream.write(end_text(self.i, self.total, self.t0, self.label, result,
                                   columns(self.stream), self.lead))
        self.stream.flush()


def fit(head, label, tail, cols):
    """head, label and tail on one line within cols - 1 columns (the last column would wrap
    on some terminals): the label shortened at a word, so that where the job stands and the
    step's result stay whole. Where even that does not fit (a narrow terminal, a long
    result), a result is wrapped at words over several lines rather than lost; a line
    without one is shortened as a whole."""
    room = cols - 1 - len(head) - len(tail) - 2
    line = " ".join(x for x in (head, label, tail) if x)
    if len(line) <= cols - 1:
        return line
    if room >= 2:
        return " ".join(x for x in (head, shorten(label, room), tail) if x)
    return wrap(line, cols - 1, 2) if tail else shorten(line, cols - 1)


def start_text(i, n, t0, label, cols, lead="", done=None):
    """What a step prints as it begins: the prefix and label, no newline (the result
    follows). On a terminal, within its width. done: the steps finished, where more than
    the ones before it (steps timed together, whose lines come after)."""
    head = lead + prefix(i, n, t0, done)
    return (fit(head, label, "", cols) if cols else "%s %s" % (head, label)) + " "


def end_text(i, n, t0, label, result, cols, lead=""):
    """What a step prints as it ends: the result and a newline; on a terminal, the whole
    line again in place (the same words), with the time as it now stands, within the
    width."""
    if not cols:
        return "%s\n" % result
    return "\r\033[K%s\n" % fit(lead + prefix(i, n, t0, done=i), label, result, cols)


def _lines(args):
    return [" ".join(args)] if args else sys.stdin.read().splitlines()


def main(argv):
    try:
        cmd, rest = argv[0], argv[1:]
        if cmd in ("start", "end"):
            done = None
            if cmd == "start" and rest[:1] == ["--done"]:
                done, rest = int(rest[1]), rest[2:]
            i, n, t0 = int(rest[0]), int(rest[1]), float(rest[2])
            if done is not None and not i - 1 <= done <= n:
                raise ValueError("--done %d at step %d of %d" % (done, i, n))
            if not 0 < i <= n:
                raise ValueError("step %d of %d" % (i, n))
            cols = columns(sys.stdout)
            if cmd == "start":
                sys.stdout.write(start_text(i, n, t0, " ".join(rest[3:]), cols, done=done))
            else:
                sys.stdout.write(end_text(i, n, t0, rest[3], " ".join(rest[4:]), cols))
        elif cmd == "hms":
            print(hms(float(rest[0])))
        elif cmd == "shorten":
            w = int(rest[0])
            for line in _lines(rest[1:]):
                print(shorten(line, w))
        elif cmd == "wrap":
            w = int(rest[0])
            ind = int(rest[1]) if len(rest) > 1 and rest[1].isdigit() else 0
            for line in _lines(rest[1 + (len(rest) > 1 and rest[1].isdigit()):]):
                print(wrap(line, w, ind))
        else:
            raise ValueError("unknown command %s" % cmd)
    except (ValueError, IndexError) as e:
        sys.stderr.write("progress: %s (progress.py start|end|hms|shorten|wrap; --help)\n" % (
            e if not isinstance(e, IndexError) else "missing arguments"))
        return 64
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0)
    sys.exit(main(sys.argv[1:]) if len(sys.argv) > 1 else 64)
