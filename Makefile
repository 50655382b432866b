# parlab: build, test, bench. `make help` lists the targets.
CC      ?= gcc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra
ifeq ($(CI),true)
WARN    += -Werror
endif
# -ffp-contract=off: the same floating-point rounding in every build, so results that
# must be bit-identical to seq (nbody, mandelbrot) stay so whatever the flags.
BASE    := -std=gnu11 -pthread -fopenmp -ffp-contract=off -MMD -MP
SAN     ?=
ifneq ($(SAN),)
BASE    += -fsanitize=$(SAN) -fno-omit-frame-pointer
BUILD   ?= build/san-$(subst $(comma),-,$(SAN))
else
BUILD   ?= build
endif
comma   := ,
LDLIBS  += -ljansson -lm -ldl
# Debian's python3, which sees Debian's python3-scipy (verdicts: bootstrap intervals and rank
# tests); a python3 earlier on PATH (pyenv, a venv) may not. Exported to scripts and tests.
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
export PYTHON
ALL_CFLAGS = $(BASE) $(WARN) $(CFLAGS)

# mpi/ranks*.c is the ranks' program: built with mpicc into parlab-mpi only. The rest of
# mpi/ (the launcher, the worlds, the wire) is bin/parlab's, and linked into both.
MPI_SRC  := $(wildcard mpi/ranks*.c)
LIB_SRC  := $(wildcard workloads/*.c) $(wildcard runners/*.c) \
            $(filter-out $(MPI_SRC),$(wildcard mpi/*.c)) \
            $(wildcard lib/*.c) $(wildcard experiments/*.c) \
            $(filter-out harness/main.c,$(wildcard harness/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
EX_SRC   := $(wildcard examples/*.c)
EX_BIN   := $(EX_SRC:examples/%.c=bin/examples/%)

ifneq ($(SAN),)
PARLAB   := $(BUILD)/parlab
TESTBIN  := $(BUILD)/parlab-tests
else
PARLAB   := bin/parlab
TESTBIN  := bin/parlab-tests
endif

# bin/parlab-mpi, beside parlab, where Open MPI's mpicc is installed. Not in sanitizer
# builds: Open MPI's own libraries are not clean under them, so mpi is tested in the plain one.
# HAVE_MPI is decided when make reads this file: `make test` and `make bench` install Open MPI
# (deps-*) and then build in a second make (build-test, build-bench), which reads it again.
MPICC   ?= mpicc
ifeq ($(SAN),)
HAVE_MPI := $(shell command -v $(MPICC) >/dev/null 2>&1 && echo yes)
endif
ifeq ($(HAVE_MPI),yes)
PARLAB_MPI := $(dir $(PARLAB))parlab-mpi
endif

.PHONY: all test bench reference build-test build-bench plots clean help deps-test deps-bench examples overhead check-report compare diff labs lab-keys torture install uninstall FORCE
all: $(PARLAB) $(PARLAB_MPI)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libparlab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PARLAB): $(BUILD)/harness/main.o $(BUILD)/libparlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# (A pattern more specific than $(BUILD)/%.o, so that make picks it for these files.)
MPI_OBJ := $(MPI_SRC:%.c=$(BUILD)/%.o)
$(BUILD)/mpi/ranks%.o: mpi/ranks%.c
	@mkdir -p $(dir $@)
	OMPI_CC=$(CC) $(MPICC) $(ALL_CFLAGS) -c -o $@ $<

ifneq ($(PARLAB_MPI),)
$(PARLAB_MPI): $(MPI_OBJ) $(BUILD)/libparlab.a
	@mkdir -p $(dir $@)
	OMPI_CC=$(CC) $(MPICC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)
endif

# The test runner registers every tests/test_*.c: each defines `CU_TestInfo tests_<name>[]`.
$(BUILD)/tests/suites.h: $(wildcard tests/test_*.c)
	@mkdir -p $(dir $@)
	@for f in $(sort $(notdir $(basename $(wildcard tests/test_*.c)))); do \
	  echo "SUITE($${f#test_})"; done > $@.tmp && mv $@.tmp $@

# The commit `parlab run --format json` reports as the build's (its context.commit), with
# "-dirty" for uncommitted changes. The header is rewritten only when that changes.
$(BUILD)/commit.h: FORCE
	@mkdir -p $(dir $@)
	@c=$$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown); \
	 echo "#define PARLAB_COMMIT \"$$c\"" > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
$(BUILD)/harness/json_out.o: $(BUILD)/commit.h
$(BUILD)/harness/json_out.o: ALL_CFLAGS += -include $(BUILD)/commit.h
FORCE:

$(BUILD)/tests/main.o: $(BUILD)/tests/suites.h
$(BUILD)/tests/%.o: ALL_CFLAGS += -I$(BUILD)/tests

$(TESTBIN): $(TEST_OBJ) $(BUILD)/libparlab.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ -lcunit $(LDLIBS)

bin/examples/%: examples/%.c $(BUILD)/libparlab.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -Ilib -o $@ $^ $(LDLIBS)

examples: $(EX_BIN)

deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench

# Unit tests (CUnit) and the CLI tests; the binary under test is passed in PARLAB.
# A ThreadSanitizer build reads tests/tsan.supp (each entry says why its report is false).
ifneq ($(findstring thread,$(SAN)),)
TEST_ENV := TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp $(TSAN_OPTIONS)"
TORTURE_FLAGS := --tsan
endif

test: deps-test
	@$(MAKE) --no-print-directory build-test
	@st=0; \
	echo 'PARLAB=$(PARLAB) $(TESTBIN)'; \
	PARLAB=$(PARLAB) PARLAB_SAN=$(SAN) PARLAB_BUILD=$(BUILD) $(TEST_ENV) $(TESTBIN) || { st=1; echo "make test: the CUnit suites failed; the torture cases run all the same" >&2; }; \
	echo 'python3 tests/torture.py --parlab $(PARLAB) -N $(TORTURE_N) $(TORTURE_FLAGS) $(if $(seed),--seed $(seed))'; \
	$(TEST_ENV) python3 tests/torture.py --parlab $(PARLAB) -N $(TORTURE_N) $(TORTURE_FLAGS) $(if $(seed),--seed $(seed)) || st=1; \
	exit $$st

# The torture test: N seeded random runs with planted faults, task timeouts, traces and
# signals at random moments (tests/torture.py). seed=S replays a series; make test runs
# TORTURE_N of them.
N ?= 1000
TORTURE_N ?= 300
torture: $(PARLAB)
	$(TEST_ENV) python3 tests/torture.py --parlab $(PARLAB) -N $(N) $(TORTURE_FLAGS) $(if $(seed),--seed $(seed))

# What `make test` and `make bench` build, in the second make that runs after deps-*: its
# $(PARLAB_MPI) is that make's, so Open MPI installed a moment ago is built with.
build-test: $(PARLAB) $(PARLAB_MPI) $(TESTBIN) examples
	@:
build-bench: all
	@:

# QUICK=1: fewer runs, smaller sizes (about 3 minutes); FULL=1: larger sizes, more runs, every core count.
# The bench's first and last lines name any part left out (mpi without mpirun, Python's peers).
bench: deps-bench
	@$(MAKE) --no-print-directory build-bench
	@PARLAB=$(PARLAB) scripts/bench.sh $(if $(filter-out 0,$(QUICK)),--quick) $(if $(filter-out 0,$(FULL)),--full)

# A default bench, then results/reference/<machine>/ replaced by it, trimmed as results/README.md
# says (scripts/reference.sh): refused for a disturbed run unless FORCE=1; MACHINE=NAME names it.
reference:
	@$(if $(filter-out 0,$(QUICK) $(FULL)),echo "make reference: a reference is a default bench: run it without QUICK or FULL" >&2; exit 64)
	@$(MAKE) --no-print-directory bench
	@FORCE="$(FORCE)" MACHINE="$(MACHINE)" scripts/reference.sh

# Check results/latest/index.html: the plots' geometry (labels clear of curves and of each
# other, flagged points ringed), links and the file list (scripts/check-report.py), then
# render it in headless chromium and check the screenshot.
check-report:
	@scripts/deps.sh report
	scripts/check-report.sh

# Run B (default results/latest) against run A (default the committed reference of a machine
# like B's), as a gate: exit 1 on a significant slowdown beyond THRESHOLD percent (default 5),
# 64 for runs of different modes or sizes unless FORCE=1; FORMAT=markdown for a pull request.
diff:
	@scripts/deps.sh bench
	@A="$(A)" B="$(B)" THRESHOLD="$(THRESHOLD)" FORMAT="$(FORMAT)" FORCE="$(FORCE)" scripts/diff.sh

# Redraw the plots and the report of the newest run (after editing a .gp or report.sh).
plots:
	scripts/analyse.sh results/latest
	scripts/plots.sh results/latest
	scripts/report.sh results/latest

# The building blocks' costs side by side: fork, threads, pools, dispatch, wake-ups, locks.
overhead: all
	$(PARLAB) overhead --repeat 5

# parlab's runners against Python's own models (peers/python): results/<run>/compare/.
compare: all
	@scripts/deps.sh compare
	PARLAB=$(PARLAB) scripts/compare.sh

# Classroom labs (labs/NN-name/): `make lab-N` measures (and keeps a copy of
# labs/NN-name/predict.txt with the run), `make lab-N-check` grades the newest run against
# the predictions kept with it (PREDICT=FILE grades FILE instead). One driver serves them
# all: scripts/lab.py.
# REPEAT=N repeats per configuration; WAIT_QUIET=SECONDS waits for a quiet machine first.
# A check that is inconclusive (lab.py exits 2) is not a failure: its line says why.
# make lab-keys: every number in the labs' KEY.md files against their committed reference
# runs (results/reference/labs/) and the arithmetic they tag (scripts/labkeys.py).
lab-keys:
	@$(PYTHON) scripts/labkeys.py
lab-%-check:
	@$(PYTHON) scripts/lab.py check $* $(if $(PREDICT),--predict '$(PREDICT)') || test $$? -eq 2
lab-%: deps-test $(PARLAB)
	@PARLAB=$(PARLAB) $(PYTHON) scripts/lab.py run $*
labs:
	@$(PYTHON) scripts/lab.py list

# make install PREFIX=/usr/local DESTDIR=: the binaries, what `parlab bench` runs (the scripts,
# the Python peers of the task sweep, the reference runs and the JSON Schemas) under
# share/parlab/, the man page (help2man, from --help) and the bash completion (from
# `parlab completion bash`). make uninstall removes exactly those.
PREFIX   ?= /usr/local
BINDIR   := $(PREFIX)/bin
SHAREDIR := $(PREFIX)/share/parlab
MANDIR   := $(PREFIX)/share/man/man1
COMPDIR  := $(PREFIX)/share/bash-completion/completions
SHARE_DIRS := scripts peers/python results/schema results/reference

$(BUILD)/parlab.1: $(PARLAB) scripts/man.sh
	@scripts/deps.sh install
	scripts/man.sh $(PARLAB) $@
$(BUILD)/parlab.bash: $(PARLAB)
	$(PARLAB) completion bash > $@.tmp && mv -f $@.tmp $@

install: $(PARLAB) $(PARLAB_MPI) $(BUILD)/parlab.1 $(BUILD)/parlab.bash
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)" "$(DESTDIR)$(COMPDIR)"
	install -m 755 $(PARLAB) "$(DESTDIR)$(BINDIR)/parlab"
	$(if $(PARLAB_MPI),install -m 755 $(PARLAB_MPI) "$(DESTDIR)$(BINDIR)/parlab-mpi")
	install -m 644 $(BUILD)/parlab.1 "$(DESTDIR)$(MANDIR)/parlab.1"
	install -m 644 $(BUILD)/parlab.bash "$(DESTDIR)$(COMPDIR)/parlab"
	@find $(SHARE_DIRS) -type f ! -path '*/__pycache__/*' | while IFS= read -r f; do \
	  m=644; [ -x "$$f" ] && m=755; \
	  install -D -m $$m "$$f" "$(DESTDIR)$(SHAREDIR)/$$f" || exit 1; done
	@echo "parlab: installed $(DESTDIR)$(BINDIR)/parlab and $(DESTDIR)$(SHAREDIR)/"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/parlab" "$(DESTDIR)$(BINDIR)/parlab-mpi" \
	      "$(DESTDIR)$(MANDIR)/parlab.1" "$(DESTDIR)$(COMPDIR)/parlab"
	rm -rf "$(DESTDIR)$(SHAREDIR)"

clean:
	rm -rf build bin

help:
	@echo "make            build bin/parlab"
	@echo "make test       install test deps, build, run the CUnit suites and 300 torture cases (SAN=address,undefined or SAN=thread)"
	@echo "make torture    N seeded random runs with faults, timeouts and signals (N=1000 seed=S)"
	@echo "make bench      install bench deps, sweep cores and workers, plot, write results/latest/index.html"
	@echo "                (QUICK=1: about 3 minutes on 2 cores; FULL=1: larger sizes, more runs;"
	@echo "                REPEAT=N runs a point; WAIT_QUIET=S waits for a quiet machine)"
	@echo "make reference  a default bench, then results/reference/<machine>/ replaced by it (refused when disturbed unless FORCE=1; MACHINE=NAME)"
	@echo "make check-report  check results/latest/index.html: labels, flag rings, links, files; then render it in chromium"
	@echo "make compare    parlab against Python's multiprocessing, futures and asyncio (QUICK=1: 3 minutes)"
	@echo "make examples   build the multiprocessing-style examples into bin/examples/"
	@echo "make diff       results/latest against results/reference/ (A=RUN B=RUN): a gate, exit 1 on a significant slowdown beyond THRESHOLD=5 (%); FORMAT=markdown, FORCE=1"
	@echo "make plots      redraw the plots and index.html of results/latest"
	@echo "make overhead   what fork, threads, pools, dispatch and locks cost here"
	@echo "make labs       list the classroom labs; make lab-N runs one, make lab-N-check grades it"
	@echo "make lab-keys   check every number in the labs' keys against their reference runs"
	@echo "make install    PREFIX=/usr/local DESTDIR=: parlab, its scripts, man page and bash completion"
	@echo "make uninstall  remove what make install put there"
	@echo "make clean      remove build output"

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/harness/main.d $(MPI_OBJ:.o=.d)
