/* parse.c: strict parsing of what parlab is given: numbers (every byte must belong to the
 * number, and overflow is an error, never a wrapped value), paths and --expect answers. */
#include "parse.h"
#include "harness.h"

#include <ctype.h>
#include <errno.h>
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
        return -EINVAL;
    }
    if (*p == '-') {
        *why = "must not be negative";
        return -EINVAL;
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
        return -EINVAL;
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
            return -EINVAL;
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
        return -EINVAL;
    }
    if (huge) {
        *why = "too large";
        return -EINVAL;
    }
    exp -= frac;
    if (mant != 0) {
        for (; exp < 0; exp++) {
            if (mant % 10) {
                *why = "not a whole number";
                return -EINVAL;
            }
            mant /= 10;
        }
        for (; exp > 0; exp--) {
            mant *= 10;
            if (mant > UINT64_MAX) {
                *why = "too large";
                return -EINVAL;
            }
        }
    }
    if (mant > UINT64_MAX || (uint64_t)mant > max) {
        *why = "too large";
        return -EINVAL;
    }
    if ((uint64_t)mant < min) {
        *why = min == 1 ? "must be at least 1" : "too small";
        return -EINVAL;
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
        return -EINVAL;
    }
    /* Plain decimals only: strtod alone would also take " 1", hex and "infinity". */
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr(".eE+-", *p)) {
            *why = "not a number";
            return -EINVAL;
        }
    v = strtod(s, &end);
    if (end == s || *end || isnan(v)) {
        *why = "not a number";
        return -EINVAL;
    }
    if (v <= 0) {
        *why = "must be greater than 0";
        return -EINVAL;
    }
    if (v < 1e-3) {
        *why = "below the 1 ms resolution";
        return -EINVAL;
    }
    if (v > max || isinf(v)) {
        *why = "too large";
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int parse_opt_count(const char *opt, const char *val, uint64_t min, uint64_t max,
                    uint64_t *out, struct outcome *oc)
{
    const char *why;
    if (parse_count(val, min, max, out, &why) == 0)
        return 0;
    int big = strcmp(why, "too large") == 0, small = strcmp(why, "too small") == 0;
    if (!big && !small)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "%s %s: %s", opt, val, why);
    return fail_msg(oc, PARLAB_EXIT_USAGE, "%s %s: %s (at %s %llu)", opt, val, why,
                    big ? "most" : "least", (unsigned long long)(big ? max : min));
}

int parse_path(const char *s, const char **why)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0) {
        *why = "empty file name";
        return -EINVAL;
    }
    if (len >= 4096) {
        *why = "too long (at most 4095 characters)";
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            *why = "control characters (a newline, a tab) are not allowed in a file name";
            return -EINVAL;
        }
    return 0;
}

/* A result token cut into pieces: runs of hex digits (numbers) and single other
 * characters (literals). Returns the count, or -E2BIG past max. */
struct piece {
    const char *p;
    size_t len;
    int number;
};

static int cut_pieces(const char *s, struct piece *out, int max)
{
    int n = 0;
    while (*s) {
        if (n == max)
            return -E2BIG;
        int num = isxdigit((unsigned char)*s) != 0;
        size_t len = num ? strspn(s, "0123456789abcdefABCDEF") : 1;
        out[n++] = (struct piece){ s, len, num };
        s += len;
    }
    return n;
}

static int has_hex_letter(const struct piece *p)
{
    for (size_t i = 0; i < p->len; i++)
        if (!isdigit((unsigned char)p->p[i]))
            return 1;
    return 0;
}

/* What a number piece of the shape is, for the message. */
static void describe_number(const struct piece *zero, const struct piece *ones, char *buf,
                            size_t n)
{
    int hex = has_hex_letter(ones), fixed = zero->len == ones->len;
    if (fixed)
        snprintf(buf, n, "%zu %s digits%s", ones->len, hex ? "hex" : "decimal",
                 hex ? " (0-9, a-f)" : "");
    else
        snprintf(buf, n, "a %s number (at most %zu digits%s, no leading zeros)",
                 hex ? "hex" : "whole", ones->len, hex ? " 0-9, a-f" : "");
}

int parse_expect(const struct job *job, const char *s, char *why, size_t n)
{
    enum { MAXP = 16 };
    char zero_s[128], ones_s[128], shape[400] = "", part[120];
    struct partial zero, ones;
    struct piece z[MAXP], o[MAXP], e[MAXP];
    size_t len = strlen(s);

    if (len == 0) {
        snprintf(why, n, "empty value");
        return -EINVAL;
    }
    if (len >= sizeof zero_s) {
        snprintf(why, n, "too long: an answer has at most %zu characters", sizeof zero_s - 1);
        return -EINVAL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == ' ' || *p == ',') {
            snprintf(why, n, "an answer is one token, without control characters, spaces "
                     "or commas");
            return -EINVAL;
        }
    /* The workload's own answers: zero everywhere, and every integer field all ones. */
    memset(&zero, 0, sizeof zero);
    memset(&ones, 0, sizeof ones);
    ones.sum = ~(unsigned __int128)0;
    ones.count = UINT64_MAX;
    ones.hash = UINT64_MAX;
    job->wl->format(job, &zero, zero_s, sizeof zero_s);
    job->wl->format(job, &ones, ones_s, sizeof ones_s);
    int nz = cut_pieces(zero_s, z, MAXP), no = cut_pieces(ones_s, o, MAXP);
    int learnt = nz > 0 && nz == no && strcmp(zero_s, ones_s) != 0;
    for (int i = 0; learnt && i < nz; i++)
        learnt = z[i].number == o[i].number && (z[i].number || *z[i].p == *o[i].p);
    if (!learnt)
        return 0;   /* answers of no shape this knows: the rules above are all there are */
    for (int i = 0; i < nz; i++) {
        if (z[i].number)
            describe_number(&z[i], &o[i], part, sizeof part);
        else
            snprintf(part, sizeof part, "'%c'", *z[i].p);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%s", i ? " then " : "",
                 part);
    }
    int ne = cut_pieces(s, e, MAXP), ok = ne == nz;
    for (int i = 0; ok && i < nz; i++) {
        const struct piece *x = &e[i], *zp = &z[i], *op = &o[i];
        if (!zp->number) {
            ok = !x->number && *x->p == *zp->p;
            continue;
        }
        int hex = has_hex_letter(op), upper = 0;
        for (size_t k = 0; k < op->len; k++)
            upper |= isupper((unsigned char)op->p[k]) != 0;
        ok = x->number && x->len <= op->len;
        if (ok && zp->len == op->len)
            ok = x->len == op->len;                     /* padded: exactly as wide */
        else if (ok)
            ok = x->len == 1 || x->p[0] != '0';         /* as printed: no leading zeros */
        for (size_t k = 0; ok && k < x->len; k++) {
            unsigned char c = (unsigned char)x->p[k];
            ok = isdigit(c) || (hex && (upper ? isupper(c) : islower(c)));
        }
        if (ok && !hex && x->len == op->len)            /* not past the largest answer */
            ok = strncmp(x->p, op->p, x->len) <= 0;
    }
    if (!ok) {
        snprintf(why, n, "not an answer %s could give: %s answers are %s", job->wl->name,
                 job->wl->name, shape);
        return -EINVAL;
    }
    return 0;
}
