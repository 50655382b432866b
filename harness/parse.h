/* parse.h: the number parsers behind every numeric option. */
#ifndef PARLAB_PARSE_H
#define PARLAB_PARSE_H
#include <stdint.h>

/*
 * Parse a whole count: 2000000, 2M, 2e6, 2.5k, 1_000 is not accepted. Suffixes k, M, G,
 * T (any case) are decimal powers. The value must be a whole number in [min, max].
 * Returns 0, or -1 with *why set to a static phrase ("not a number", "too large", ...).
 */
int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why);

/* Parse seconds as a decimal in (0, max]. Same contract as parse_count. */
int parse_seconds(const char *s, double max, double *out, const char **why);

/* Parse `val` of option `opt` as a count in [min, max]. Returns 0, or prints
 * "parlab: OPT VAL: why" and returns 64 (the usage exit status) for `return`. */
int parse_opt_count(const char *opt, const char *val, uint64_t min, uint64_t max,
                    uint64_t *out);

#endif
