/* unionctl: offline work on the layer dirs of a union (the upper and
 * work dirs a unionshim or overlayfs union wrote, its lower dirs).
 * main.c only dispatches: one table entry per command, each in its own
 * file (unionctl.h). */
#include <stdio.h>
#include <string.h>

#include "unionctl.h"

struct uc_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
};

static const struct uc_command commands[] = {
	{"diff", uc_diff, "list what the upper layer changes in the union"},
	{"commit", uc_commit, "apply the upper layer onto the lower dir"},
	{"export", uc_export, "write the changes as an OCI image layer tarball"},
	{"check", uc_check, "find (and --repair) leftovers and stale records"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out, "usage: unionctl COMMAND [OPTION]...\n\n"
		     "Work offline on the layer dirs of a union made by unionshim\n"
		     "(unionrun, LD_PRELOAD) or by kernel overlayfs.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out,
		"\n`unionctl COMMAND --help` describes a command, with examples.\n\n"
		"Examples:\n"
		"  unionctl diff --lower ~/src --upper /tmp/up --work /tmp/wk\n"
		"  unionctl diff --summary --lower ~/src --upper /tmp/up --work /tmp/wk\n"
		"  unionctl commit --lower ~/src --upper /tmp/up --work /tmp/wk\n"
		"  unionctl export --lower ~/src --upper /tmp/up --work /tmp/wk -z -o layer.tar.gz\n"
		"  unionctl check --lower ~/src --upper /tmp/up --work /tmp/wk --repair\n\n"
		"Exit status: 0 done; 1 failed; 2 usage error (nothing done).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "unionctl: unknown command '%s' (see unionctl --help)\n",
		argv[1]);
	return 2;
}
