/* completion.c: `parlab completion bash`: a bash completion for parlab, generated from the
 * tables the command line itself uses (the commands, workloads, runners, schedules, start
 * methods, experiments, race's cases and getopt's long options), so that it cannot fall
 * behind them. `make install` writes it to share/bash-completion/completions/parlab.
 * It reads every floor's tables, the experiments' too, so it stands on the top floor
 * (docs/decisions.md). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "experiment.h"
#include "race.h"
#include "../harness/harness.h"
#include "../harness/suggest.h"
#include "../lib/pool.h"

/* The long options of a getopt table as words: "--name ..." */
static void long_words(const struct option *o)
{
    for (; o->name; o++)
        printf(" --%s", o->name);
}

/* A case arm: when the previous word is one of `opts`, complete from `words`. */
static void arm(const char *opts, const char *words)
{
    printf("        %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", opts, words);
}

/* The completion script, on stdout. */
static void bash(void)
{
    char why[300], words[2048];
    size_t len;
    printf("# bash completion for parlab, written by `parlab completion bash` (parlab %s)\n"
           "_parlab()\n{\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local cmd=${COMP_WORDS[1]}\n"
           "    COMPREPLY=()\n"
           "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
           "        COMPREPLY=($(compgen -W \"", PARLAB_VERSION);
    for (const struct command *c = commands; c->name; c++)
        printf("%s ", c->name);
    printf("--help --version\" -- \"$cur\"))\n        return\n    fi\n");

    /* Values of the options that take a name, whatever the command. */
    printf("    case $prev in\n");
    len = 0;
    words[0] = '\0';
    for (const struct workload *const *w = wl_registry; *w; w++)
        len += (size_t)snprintf(words + len, sizeof words - len, "%s%s", len ? " " : "", (*w)->name);
    arm("-w|--workload", words);
    printf("        -r|--runner)\n");
    printf("            if [ \"$cmd\" = run ]; then\n                COMPREPLY=($(compgen -W \"");
    for (const struct runner *const *r = runner_registry; *r; r++)
        if (runner_usable(*r, why, sizeof why))
            printf("%s ", (*r)->name);
    printf("\" -- \"$cur\"))\n            else\n"
           "                COMPREPLY=($(compgen -W \"fork thread\" -- \"$cur\"))\n"
           "            fi\n            return ;;\n");
    len = 0;
    for (int k = 0; k <= SCHED_STUDENT; k++)
        len += (size_t)snprintf(words + len, sizeof words - len, "%s%s", len ? " " : "",
                                sched_name((enum sched_kind)k));
    arm("-s|--schedule", words);
    len = 0;
    for (int k = 0; k < POOL_START__COUNT; k++)
        len += (size_t)snprintf(words + len, sizeof words - len, "%s%s", len ? " " : "",
                                pool_start_name((enum pool_start)k));
    arm("--start", words);
    arm("--format", "text csv json");
    len = 0;
    for (int c = 0; c < RACE__COUNT; c++)
        len += (size_t)snprintf(words + len, sizeof words - len, "%s%s", len ? " " : "",
                                race_case_info((enum race_case)c)->name);
    arm("--case", words);
    arm("--inject", "segv@ kill@ exit@ hang@ error@ drop@");
    printf("        --trace|--student) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
    /* any other option with a value: nothing to offer but the user's own */
    printf("        -j|--workers|-n|--size|-t|--tasks|-c|--chunk");
    for (const struct option *o = run_options(); o->name; o++)
        if (o->has_arg == required_argument && strcmp(o->name, "trace") &&
            strcmp(o->name, "format") && strcmp(o->name, "start") && strcmp(o->name, "inject") &&
            strlen(o->name) > 1)
            printf("|--%s", o->name);
    for (const struct option *o = exp_options(); o->name; o++)
        if (o->has_arg == required_argument && strcmp(o->name, "format") &&
            strcmp(o->name, "runner") && strcmp(o->name, "workers") && strcmp(o->name, "size") &&
            strcmp(o->name, "tasks") && strcmp(o->name, "repeat"))
            printf("|--%s", o->name);
    for (const struct option *o = race_options(); o->name; o++)
        if (o->has_arg == required_argument && strcmp(o->name, "format") &&
            strcmp(o->name, "case") && strcmp(o->name, "workers"))
            printf("|--%s", o->name);
    printf(") return ;;\n    esac\n\n");

    /* Each command's own words. */
    printf("    case $cmd in\n");
    printf("        run) COMPREPLY=($(compgen -W \"");
    long_words(run_options());
    printf("\" -- \"$cur\")) ;;\n");
    printf("        list) COMPREPLY=($(compgen -W \"--format --help\" -- \"$cur\")) ;;\n");
    printf("        world)\n            if [ \"$COMP_CWORD\" -eq 2 ]; then\n"
           "                COMPREPLY=($(compgen -W \"start stop status --help\" -- \"$cur\"))\n"
           "            else\n"
           "                COMPREPLY=($(compgen -W \"-j --workers --cores --idle --stale "
           "--format\" -- \"$cur\"))\n            fi ;;\n");
    printf("        bench) COMPREPLY=($(compgen -W \"--quick --full --help\" -- \"$cur\")) ;;\n");
    printf("        completion) COMPREPLY=($(compgen -W \"bash\" -- \"$cur\")) ;;\n");
    printf("        race) COMPREPLY=($(compgen -W \"");
    long_words(race_options());
    printf("\" -- \"$cur\")) ;;\n");
    /* The experiments' commands: a command that groups several names them first. */
    for (const struct command *c = commands; c->name; c++) {
        int n = 0, own = 0;
        for (const struct experiment *const *e = exp_registry; *e; e++)
            if (strcmp((*e)->command, c->name) == 0) {
                n++;
                own |= strcmp((*e)->name, c->name) == 0;
            }
        if (!n)
            continue;
        printf("        %s)\n", c->name);
        if (!own) {
            printf("            if [ \"$COMP_CWORD\" -eq 2 ]; then\n"
                   "                COMPREPLY=($(compgen -W \"");
            for (const struct experiment *const *e = exp_registry; *e; e++)
                if (strcmp((*e)->command, c->name) == 0)
                    printf("%s ", (*e)->name);
            printf("--help\" -- \"$cur\"))\n                return\n            fi\n");
        }
        printf("            COMPREPLY=($(compgen -W \"");
        long_words(exp_options());
        printf("\" -- \"$cur\")) ;;\n");
    }
    printf("    esac\n}\ncomplete -F _parlab parlab\n");
}

int cmd_completion(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: parlab completion bash\n"
               "  print a bash completion for parlab (make install puts it where bash finds\n"
               "  it); for this shell only: source <(parlab completion bash)\n");
        return 0;
    }
    if (argc != 2)
        return die(PARLAB_EXIT_USAGE, "completion: which shell? (parlab completion bash)");
    if (strcmp(argv[1], "bash")) {
        static const char *const shells[] = { "bash", NULL };
        char hint[96];
        return die(PARLAB_EXIT_USAGE, "completion: unknown shell '%s'%s (bash)", argv[1],
                   suggest_from(argv[1], shells, hint, sizeof hint));
    }
    bash();
    return 0;
}
