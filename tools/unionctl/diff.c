/* diff.c: `unionctl diff`: the changes of an upper layer, one per line
 * (the model is shim/core/changes.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "layerargs.h"
#include "unionctl.h"
#include "unionshim/objcmp.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: unionctl diff [--lower DIR]... --upper DIR [--work DIR]\n"
"                     [--summary] [--json]\n"
"\n"
"List what the upper layer changes in the union, one line per name,\n"
"sorted by path (bytes), paths relative to the union root:\n"
"  A path   added: in the union, not in the lower dirs\n"
"  M path   changed: its contents, type, mode, owner, mtime, xattrs or\n"
"           symlink target differ from what it hides (a dir: its mode,\n"
"           owner or xattrs; names added or removed in it are lines of\n"
"           their own)\n"
"  D path   deleted: a whiteout, what an opaque dir hides, and every\n"
"           name below a deleted dir\n"
"A new dir lists each name in it; hard links are one line per name.\n"
"Upper and work dirs written by unionshim and by kernel overlayfs are\n"
"both read; the shim's own records never show.\n"
"\n"
"  --lower DIR   a lower dir; repeat it, topmost first\n"
"  --upper DIR   the upper dir\n"
"  --work DIR    the work dir: a lower hard link whose other name was\n"
"                changed is answered by its hard-link index\n"
"  --summary     one line instead: N added, N changed, N deleted\n"
"  --json        a JSON object: {\"changes\": [{\"change\": \"A\", \"path\":\n"
"                ..., \"type\": ..., \"what\": [...]}, ...], \"added\": N,\n"
"                \"changed\": N, \"deleted\": N}; exact names (a name\n"
"                that is not UTF-8 has \"path_hex\" too)\n"
"  -h, --help    this text\n"
"\n"
"A path holding a control byte, a double quote or a backslash is\n"
"printed in double quotes with C escapes (\\n, \\t, \\\", \\\\, \\ooo octal),\n"
"as git does; any other byte is printed as is.\n"
"\n"
"Examples:\n"
"  unionrun --lower ~/src --upper /tmp/up --work /tmp/wk -C ~/src -- make\n"
"  unionctl diff --lower ~/src --upper /tmp/up --work /tmp/wk\n"
"  unionctl diff --summary --lower ~/src --upper /tmp/up --work /tmp/wk\n"
"  unionctl diff --json --lower /srv/l2 --lower /srv/l1 --upper /srv/up | jq .\n"
"\n"
"Exit status: 0 done; 1 failed; 2 usage error.\n");
}

static const char *type_name(mode_t t)
{
	switch (t & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "chardev";
	case S_IFBLK: return "blockdev";
	case S_IFIFO: return "fifo";
	default: return "socket";
	}
}

static void put_json(FILE *out, const struct us_changes *c)
{
	fputs("{\"changes\": [", out);
	for (size_t i = 0; i < c->n; i++) {
		const struct us_change *ch = &c->v[i];
		fprintf(out, "%s\n  {\"change\": \"%c\", \"path\": ", i ? "," : "",
			ch->kind);
		if (!uc_put_json(out, ch->path)) {
			fputs(", \"path_hex\": ", out);
			uc_put_hex(out, ch->path);
		}
		fprintf(out, ", \"type\": \"%s\"", type_name(ch->type));
		if (ch->kind == 'M') {
			fputs(", \"what\": [", out);
			const char *sep = "";
			for (int b = 0; us_diff_name(b); b++)
				if (ch->what & (1u << b)) {
					fprintf(out, "%s\"%s\"", sep, us_diff_name(b));
					sep = ", ";
				}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fprintf(out, "%s], \"added\": %zu, \"changed\": %zu, \"deleted\": %zu}\n",
		c->n ? "\n" : "", c->added, c->changed, c->deleted);
}

static void put_text(FILE *out, const struct us_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		fprintf(out, "%c ", c->v[i].kind);
		uc_put_path(out, c->v[i].path);
		fputc('\n', out);
	}
}

int uc_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"lower", required_argument, NULL, 'l'},
		{"upper", required_argument, NULL, 'u'},
		{"work", required_argument, NULL, 'w'},
		{"summary", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct uc_layers l = {0};
	struct us_changes c;
	bool summary = false, json = false;
	int opt, rc = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		int r = uc_layers_opt(&l, "diff", opt, optarg);
		if (r < 0)
			return 2;
		if (r)
			continue;
		switch (opt) {
		case 's': summary = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default:
			uc_err("diff", "bad option '%s' (see unionctl diff --help)",
			       argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		uc_err("diff", "unexpected argument '%s' (see unionctl diff --help)",
		       argv[optind]);
		return 2;
	}
	if (uc_layers_check(&l, "diff", false, false) < 0) {
		uc_layers_free(&l);
		return 2;
	}
	if (us_changes_collect(&l.set, 0, &c) < 0) {
		if (errno == ENOTSUP)
			uc_err("diff", "%s: an overlayfs redirect or metacopy entry "
			       "(redirect_dir, metacopy): not supported",
			       c.errpath ? c.errpath : "?");
		else
			uc_err("diff", "%s: %s", c.errpath ? c.errpath : l.cupper,
			       strerror(errno));
		rc = 1;
	} else if (summary && json) {
		printf("{\"added\": %zu, \"changed\": %zu, \"deleted\": %zu}\n",
		       c.added, c.changed, c.deleted);
	} else if (summary) {
		printf("%zu added, %zu changed, %zu deleted\n", c.added, c.changed,
		       c.deleted);
	} else if (json) {
		put_json(stdout, &c);
	} else {
		put_text(stdout, &c);
	}
	us_changes_free(&c);
	uc_layers_free(&l);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		uc_err("diff", "writing the output: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}
