/* unionctl: read and manage a union's layers offline (no shim, no mount).
 * main.c only dispatches to one command per file (unionctl.h). */
#include <stdio.h>
#include <string.h>

#include "unionctl.h"
#include "unionshim/msgline.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} commands[] = {
	{"export", uc_export, "write the changes as an OCI image layer tarball"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: unionctl COMMAND [OPTION]... (unionctl COMMAND --help)\n\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out,
"\nExamples:\n"
"  unionctl export --upper /tmp/up --work /tmp/wk --lower ~/src -z -o layer.tar.gz\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	struct us_msg m;
	us_msg_start(&m, 2, "unionctl: unknown command ");
	us_msg_val(&m, argv[1]);
	us_msg_raw(&m, " (unionctl --help)");
	us_msg_end(&m);
	return 2;
}
