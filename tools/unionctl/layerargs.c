/* layerargs.c: the layer options of unionctl commands (layerargs.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layerargs.h"
#include "unionshim/msgline.h"
#include "unionshim/path.h"

void uc_err(const char *cmd, const char *fmt, ...)
{
	char *text = NULL;
	struct us_msg m;
	va_list ap;

	va_start(ap, fmt);
	us_msg_start(&m, 2, "unionctl ");
	us_msg_val(&m, cmd);
	us_msg_raw(&m, ": ");
	if (vasprintf(&text, fmt, ap) < 0)
		us_msg_raw(&m, "out of memory");
	else
		us_msg_val(&m, text);
	us_msg_end(&m);
	va_end(ap);
	free(text);
}

int uc_layers_opt(struct uc_layers *l, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case 'l':
		if (l->nlower == US_MAX_LAYERS - 1) {
			uc_err(cmd, "more than %d --lower dirs", US_MAX_LAYERS - 1);
			return -1;
		}
		l->lower[l->nlower++] = arg;
		return 1;
	case 'u':
	case 'w':
		if (c == 'u' ? l->upper : l->work) {
			uc_err(cmd, "--%s given twice", c == 'u' ? "upper" : "work");
			return -1;
		}
		*(c == 'u' ? &l->upper : &l->work) = arg;
		return 1;
	default:
		return 0;
	}
}

/* The canonical path of dir P given with option OPT, or NULL (printed). */
static char *canon_dir(const char *cmd, const char *opt, const char *p)
{
	struct stat st;
	char *c = realpath(p, NULL);

	if (!c || stat(c, &st) < 0) {
		uc_err(cmd, "%s %s: %s", opt, p, strerror(errno));
		free(c);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		uc_err(cmd, "%s %s: not a directory", opt, p);
		free(c);
		return NULL;
	}
	return c;
}

/* Do dirs A (option OA) and B (OB) stay apart? Else printed, false. */
static bool apart(const char *cmd, const char *oa, const char *a,
		  const char *ob, const char *b)
{
	if (!strcmp(a, b))
		uc_err(cmd, "%s and %s are the same dir %s", oa, ob, a);
	else if (us_path_under(a, b, strlen(b)))
		uc_err(cmd, "%s %s is inside %s %s", oa, a, ob, b);
	else if (us_path_under(b, a, strlen(a)))
		uc_err(cmd, "%s %s is inside %s %s", ob, b, oa, a);
	else
		return true;
	return false;
}

int uc_layers_check(struct uc_layers *l, const char *cmd, bool need_lower,
		    bool need_work)
{
	struct stat su, sw;

	if (!l->upper) {
		uc_err(cmd, "--upper DIR is required (see unionctl %s --help)", cmd);
		return -1;
	}
	if (need_lower && !l->nlower) {
		uc_err(cmd, "--lower DIR is required (see unionctl %s --help)", cmd);
		return -1;
	}
	if (need_work && !l->work) {
		uc_err(cmd, "--work DIR is required (see unionctl %s --help)", cmd);
		return -1;
	}
	if (!(l->cupper = canon_dir(cmd, "--upper", l->upper)))
		return -1;
	for (int i = 0; i < l->nlower; i++)
		if (!(l->clower[i] = canon_dir(cmd, "--lower", l->lower[i])) ||
		    !apart(cmd, "--upper", l->cupper, "--lower", l->clower[i]))
			return -1;
	if (l->work) {
		if (!(l->cwork = canon_dir(cmd, "--work", l->work)) ||
		    !apart(cmd, "--work", l->cwork, "--upper", l->cupper))
			return -1;
		for (int i = 0; i < l->nlower; i++)
			if (!apart(cmd, "--work", l->cwork, "--lower", l->clower[i]))
				return -1;
		if (stat(l->cupper, &su) < 0 || stat(l->cwork, &sw) < 0 ||
		    su.st_dev != sw.st_dev) {
			uc_err(cmd, "--work %s is not on the filesystem of --upper %s",
			       l->cwork, l->cupper);
			return -1;
		}
	}
	us_layerset_init(&l->set, l->cupper, l->cwork,
			 (const char *const *)l->clower, l->nlower);
	return 0;
}

void uc_layers_free(struct uc_layers *l)
{
	for (int i = 0; i < l->nlower; i++)
		free(l->clower[i]);
	free(l->cupper);
	free(l->cwork);
}

static bool needs_quotes(const unsigned char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s == 0x7f || *s == '"' || *s == '\\')
			return true;
	return false;
}

void uc_put_path(FILE *out, const char *path)
{
	const unsigned char *s = (const unsigned char *)path;

	if (!needs_quotes(s)) {
		fputs(path, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '\a': e = "\\a"; break;
		case '\b': e = "\\b"; break;
		case '\t': e = "\\t"; break;
		case '\n': e = "\\n"; break;
		case '\v': e = "\\v"; break;
		case '\f': e = "\\f"; break;
		case '\r': e = "\\r"; break;
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		}
		if (e)
			fputs(e, out);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\%03o", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* The length of the UTF-8 sequence at S, or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n = *s < 0x80 ? 1 : *s >= 0xc2 && *s < 0xe0 ? 2
			: *s >= 0xe0 && *s < 0xf0	  ? 3
			: *s >= 0xf0 && *s < 0xf5	  ? 4
							  : 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && *s == 0xe0 && s[1] < 0xa0) ||
	    (n == 3 && *s == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && *s == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && *s == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate, past U+10FFFF */
	return n;
}

bool uc_put_json(FILE *out, const char *path)
{
	const unsigned char *s = (const unsigned char *)path;
	bool valid = true;

	fputc('"', out);
	while (*s) {
		int n = utf8_len(s);
		if (n == 0) {
			valid = false;
			fprintf(out, "\\u%04x", *s++);
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, (size_t)n, out);
			s += n;
			continue;
		}
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if (*s < 0x20 || *s == 0x7f)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
		s++;
	}
	fputc('"', out);
	return valid;
}

void uc_put_hex(FILE *out, const char *path)
{
	fputc('"', out);
	for (const unsigned char *s = (const unsigned char *)path; *s; s++)
		fprintf(out, "%02x", *s);
	fputc('"', out);
}
