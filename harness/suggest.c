/* suggest.c: the nearest known name to a mistyped one (suggest.h). Every lookup that can
 * refuse a name (workloads, runners, experiments, start methods, schedules, commands, long
 * options) asks here, so that all of them suggest alike. */
#include "suggest.h"
#include "harness.h"
#include <getopt.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), w = lb + 1;
    /* Three rows: the one before the previous is needed for a transposition. */
    size_t *d = malloc(3 * w * sizeof *d);
    if (!d)
        return SIZE_MAX;
    size_t *pp = d, *p = d + w, *c = d + 2 * w;
    for (size_t j = 0; j <= lb; j++)
        p[j] = j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            c[j] = min3(p[j] + 1, c[j - 1] + 1, p[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < c[j])
                c[j] = pp[j - 2] + 1;
        }
        size_t *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    size_t r = p[lb];
    free(d);
    return r;
}

void suggest_init(struct suggest *s, const char *word)
{
    *s = (struct suggest){ .word = word ? word : "", .best = NULL, .dist = SIZE_MAX };
}

void suggest_add(struct suggest *s, const char *candidate)
{
    if (!candidate || !*candidate)
        return;
    size_t d = edit_distance(s->word, candidate);
    if (d < s->dist) {
        s->dist = d;
        s->best = candidate;
    }
}

const char *suggest_best(const struct suggest *s)
{
    size_t len = strlen(s->word), limit = len / 3 > 2 ? len / 3 : 2;
    if (!s->best || s->dist == 0 || s->dist > limit)
        return NULL;
    return s->best;
}

const char *suggest_hint(const struct suggest *s, char *buf, size_t n)
{
    const char *best = suggest_best(s);
    if (n == 0)
        return buf;
    if (best)
        snprintf(buf, n, ": did you mean '%s'?", best);
    else
        buf[0] = '\0';
    return buf;
}

const char *suggest_from(const char *word, const char *const *names, char *buf, size_t n)
{
    struct suggest s;
    suggest_init(&s, word);
    for (; names && *names; names++)
        suggest_add(&s, *names);
    return suggest_hint(&s, buf, n);
}

int suggest_unknown_option(const char *arg, int short_opt, const struct option *opts,
                           const char *help, struct outcome *oc)
{
    char name[64], many[256] = "";
    int prefixed = 0;
    if (short_opt || !arg || strncmp(arg, "--", 2) != 0) {
        if (short_opt)
            return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown option '-%c' (parlab %s --help)", short_opt, help);
        return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown option '%s' (parlab %s --help)", arg ? arg : "", help);
    }
    /* --name=value: the name alone is what was mistyped. */
    size_t len = strcspn(arg + 2, "=");
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name - 1 ? len : sizeof name - 1),
             arg + 2);
    for (const struct option *o = opts; o->name; o++)
        if (len && strncmp(o->name, name, len) == 0 && strlen(many) + strlen(o->name) + 5 <
            sizeof many) {
            snprintf(many + strlen(many), sizeof many - strlen(many), "%s--%s",
                     prefixed++ ? ", " : "", o->name);
        }
    if (prefixed > 1)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "ambiguous option '--%s': %s?", name, many);
    struct suggest s;
    suggest_init(&s, name);
    for (const struct option *o = opts; o->name; o++)
        suggest_add(&s, o->name);
    const char *best = suggest_best(&s);
    if (best)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown option '--%s': did you mean '--%s'?", name, best);
    return fail_msg(oc, PARLAB_EXIT_USAGE, "unknown option '--%s' (parlab %s --help)", name, help);
}
