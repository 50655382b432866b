/* parse.c: strict number parsing: every byte must belong to the number, and overflow is an
 * error, never a wrapped value. */
#include "parse.h"
#include "harness.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char **why)
{
    unsigned __int128 mant = 0;
    int digits = 0, frac = 0, exp = 0, seen_dot = 0, any = 0, zeros = 0, huge = 0;
    const char *p = s;

    if (!s || !*s) {
        *why = "empty value";
        return -1;
    }
    if (*p == '-') {
        *why = "must not be negative";
        return -1;
    }
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            any = 1;
            /* Zeros after the point count only once a digit follows them: 1.000... is 1. */
            if (seen_dot && *p == '0') {
                zeros++;
                continue;
            }
            for (; zeros > 0 && !huge; zeros--, frac++) {
                if (mant != 0 && ++digits > 30)
                    huge = 1;
                mant *= 10;
            }
            if (mant != 0 || *p != '0')
                digits++;
            if (digits > 30)
                huge = 1;   /* too large, if the rest is a number at all */
            if (huge)
                continue;
            mant = mant * 10 + (unsigned)(*p - '0');
            if (seen_dot)
                frac++;
        } else if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (!any) {
        *why = "not a number";
        return -1;
    }
    if (*p == 'e' || *p == 'E') {
        int sign = 1, e = 0;
        any = 0;
        p++;
        if (*p == '+' || *p == '-')
            sign = *p++ == '-' ? -1 : 1;
        while (isdigit((unsigned char)*p)) {
            if (e < 10000)
                e = e * 10 + (*p - '0');
            any = 1;
            p++;
        }
        if (!any) {
            *why = "not a number";
            return -1;
        }
        exp = sign * e;
    }
    switch (*p) {
    case 'k': case 'K': exp += 3; p++; break;
    case 'm': case 'M': exp += 6; p++; break;
    case 'g': case 'G': exp += 9; p++; break;
    case 't': case 'T': exp += 12; p++; break;
    default: break;
    }
    if (*p) {
        *why = "not a number";
        return -1;
    }
    if (huge) {
        *why = "too large";
        return -1;
    }
    exp -= frac;
    if (mant != 0) {
        for (; exp < 0; exp++) {
            if (mant % 10) {
                *why = "not a whole number";
                return -1;
            }
            mant /= 10;
        }
        for (; exp > 0; exp--) {
            mant *= 10;
            if (mant > UINT64_MAX) {
                *why = "too large";
                return -1;
            }
        }
    }
    if (mant > UINT64_MAX || (uint64_t)mant > max) {
        *why = "too large";
        return -1;
    }
    if ((uint64_t)mant < min) {
        *why = min == 1 ? "must be at least 1" : "too small";
        return -1;
    }
    *out = (uint64_t)mant;
    return 0;
}

int parse_seconds(const char *s, double max, double *out, const char **why)
{
    char *end;
    double v;
    if (!s || !*s) {
        *why = "empty value";
        return -1;
    }
    /* Plain decimals only: strtod alone would also take " 1", hex and "infinity". */
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr(".eE+-", *p)) {
            *why = "not a number";
            return -1;
        }
    v = strtod(s, &end);
    if (end == s || *end || isnan(v)) {
        *why = "not a number";
        return -1;
    }
    if (v <= 0) {
        *why = "must be greater than 0";
        return -1;
    }
    if (v < 1e-3) {
        *why = "below the 1 ms resolution";
        return -1;
    }
    if (v > max || isinf(v)) {
        *why = "too large";
        return -1;
    }
    *out = v;
    return 0;
}

int parse_opt_count(const char *opt, const char *val, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    const char *why;
    if (parse_count(val, min, max, out, &why) == 0)
        return 0;
    if (strcmp(why, "too large") == 0)
        return die(PARLAB_EXIT_USAGE, "%s %s: too large (at most %llu)", opt, val,
                   (unsigned long long)max);
    if (strcmp(why, "too small") == 0)
        return die(PARLAB_EXIT_USAGE, "%s %s: too small (at least %llu)", opt, val,
                   (unsigned long long)min);
    return die(PARLAB_EXIT_USAGE, "%s %s: %s", opt, val, why);
}
