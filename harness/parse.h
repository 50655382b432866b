/* parse.h: the parsers behind every option, under the error convention of what the
 * commands call (docs/decisions.md): a parser prints nothing. It returns 0, or -EINVAL
 * with the reason as a static phrase in *why, or -1 with the whole line in a struct
 * outcome (code 64), and the command (cmd_*) prints that line once and exits with the
 * code. An option loop that can also end in --help says so with PARSE_HELP. */
#ifndef PARLAB_PARSE_H
#define PARLAB_PARSE_H
#include <stddef.h>
#include <stdint.h>

/* An option parser's third answer, beside 0 (go on) and -1 (the line in an outcome):
 * --help was asked for, so the command prints its usage and exits 0. */
#define PARSE_HELP 1

/*
 * Parse a whole count: 2000000, 2M, 2e6, 2.5k, 1_000 is not accepted. Suffixes k, M, G,
 * T (any case) are decimal powers. The value must be a whole number in [min, max].
 * Returns 0, or -EINVAL with *why set to a static phrase ("not a number", "too large", ...).
 */
int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why);

/* Parse seconds as a decimal in (0, max]. Returns 0, or -EINVAL with *why set. */
int parse_seconds(const char *s, double max, double *out, const char **why);

/* Parse `val` of option `opt` as a count in [min, max]. Returns 0, or -1 with oc filled:
 * code 64, the line "OPT VAL: why" (fail_msg: a huge value keeps its head and tail). */
struct outcome;
int parse_opt_count(const char *opt, const char *val, uint64_t min, uint64_t max,
                    uint64_t *out, struct outcome *oc);

/* A path from the command line or the environment: not empty, shorter than PATH_MAX,
 * and without control characters (a newline in a file name breaks every line-based tool
 * that lists it). Returns 0, or -EINVAL with *why set. */
int parse_path(const char *s, const char **why);

/*
 * --expect RESULT for job: one token as the workload's format() prints its answers, so
 * that a value that could never match is refused before any work. The shape is learned
 * from format() itself, on a zero total and an all-ones one: runs of hex digits are
 * numbers (decimal unless the all-ones answer shows a-f; as wide as the widest answer;
 * exactly that wide where the zero answer is padded), and every other character must be
 * as printed. Always: 1 to 127 characters, none a control character, a space or a comma.
 * Returns 0, or -EINVAL with the reason in why[n].
 */
struct job;
int parse_expect(const struct job *job, const char *s, char *why, size_t n);

#endif
