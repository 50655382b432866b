/* suggest.h: "did you mean 'primes'?" for a name parlab does not know: the nearest known
 * name by edit distance, offered only when it is close enough to be the one meant. */
#ifndef PARLAB_SUGGEST_H
#define PARLAB_SUGGEST_H
#include <stddef.h>

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions):
 * the insertions, deletions, substitutions and swaps of two neighbours that turn a into
 * b. Bytes compared as they are; names of any length (SIZE_MAX when out of memory). */
size_t edit_distance(const char *a, const char *b);

/* The nearest of the names offered with suggest_add, for `word`. */
struct suggest {
    const char *word;
    const char *best;
    size_t dist;
};
/* Start a search for the name nearest to word (kept, not copied). */
void suggest_init(struct suggest *s, const char *word);
/* Offer candidate (kept, not copied); the nearest so far is remembered. */
void suggest_add(struct suggest *s, const char *candidate);
/* The nearest candidate when its distance is at most max(2, strlen(word) / 3) and it is
 * not the word itself, else NULL. The first of equally near candidates wins. */
const char *suggest_best(const struct suggest *s);

/* ": did you mean 'NAME'?" for the best candidate, or "" when none is close: ready to
 * splice into a message. buf holds it; returns buf. */
const char *suggest_hint(const struct suggest *s, char *buf, size_t n);

/* The nearest of a NULL-terminated list of names, as suggest_hint. */
const char *suggest_from(const char *word, const char *const *names, char *buf, size_t n);

/*
 * After getopt_long returned '?': the one line for the option it refused, in oc (code 64).
 * arg is the refused argument (argv[optind - 1]), short is optopt. A long option that is
 * a prefix of several gets them listed; one near a long option of opts gets "did you mean
 * '--repeat'?"; else the line ends with "(parlab HELP --help)". Returns -1 (the command
 * prints the line and exits 64).
 */
struct option;
struct outcome;
int suggest_unknown_option(const char *arg, int short_opt, const struct option *opts,
                           const char *help, struct outcome *oc);

#endif
