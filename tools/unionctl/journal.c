/* journal.c: the commit journal (journal.h). It resists the process
 * being killed: every file is whole or absent (rename), and "next" is
 * rewritten in place by one small write, never torn by a kill. No fsync:
 * after a power loss, what the disk kept is the filesystem's business. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define MAGIC "unionctl-commit 1"

int journal_paths(struct journal *j, const char *work)
{
	if (asprintf(&j->dir, "%s/" JOURNAL, work) < 0 ||
	    asprintf(&j->plan, "%s/plan", j->dir) < 0 ||
	    asprintf(&j->next, "%s/next", j->dir) < 0 ||
	    asprintf(&j->cleaning, "%s/cleaning", j->dir) < 0)
		return -1;
	return 0;
}

void journal_free(struct journal *j)
{
	free(j->dir);
	free(j->plan);
	free(j->next);
	free(j->cleaning);
}

static int write_file(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)w;
	}
	return close(fd);
}

static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;

	if (fd < 0 || fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
		goto fail;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	close(fd);
	return buf;
fail:;
	int saved = errno;
	free(buf);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return NULL;
}

/* The plan: MAGIC " " TAG "\n" LOWER "\0" steps. */
int plan_make(struct uc_layers *l, const struct journal *j, char **err)
{
	struct us_changes c;
	struct us_plan p;
	unsigned char rnd[8];
	char *steps, *head = NULL, *buf;
	size_t slen;

	if (us_changes_collect(&l->set, US_CHANGES_LINKS, &c) < 0 ||
	    (c.redirected && (errno = EXDEV)) ||
	    us_commit_plan(&l->set, &c, &p) < 0) {
		int saved = errno;
		*err = c.errpath ? strdup(c.errpath) : NULL;
		us_changes_free(&c);
		errno = saved;
		return -1;
	}
	us_changes_free(&c);
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof rnd);
	}
	int rc = us_plan_format(&p, &steps, &slen);
	us_plan_free(&p);
	if (rc < 0)
		return -1;
	int hl = asprintf(&head, MAGIC " %02x%02x%02x%02x%02x%02x%02x%02x\n%s",
			  rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
			  rnd[7], l->clower[0]);
	buf = hl < 0 ? NULL : malloc((size_t)hl + 1 + slen);
	char *tmp = NULL;
	rc = -1;
	if (buf && asprintf(&tmp, "%s.tmp", j->plan) >= 0) {
		memcpy(buf, head, (size_t)hl + 1);
		memcpy(buf + hl + 1, steps, slen);
		if (mkdir(j->dir, 0700) < 0 && errno != EEXIST)
			*err = strdup(j->dir);
		else if (write_file(j->next, "0", 1) < 0 ||
			 write_file(tmp, buf, (size_t)hl + 1 + slen) < 0 ||
			 rename(tmp, j->plan) < 0)
			*err = strdup(j->plan);
		else
			rc = 0;
	}
	int saved = errno;
	free(tmp);
	free(head);
	free(buf);
	free(steps);
	errno = saved;
	return rc;
}

/* Read the journal's plan for lower LOWER: its tag (17 bytes) and steps. */
int plan_load(const struct journal *j, const char *lower, char *tag,
		     struct us_plan *p, const char *cmd)
{
	size_t len;
	char *buf = read_file(j->plan, &len);

	if (!buf) {
		uc_err(cmd, "%s: %s", j->plan, strerror(errno));
		return -1;
	}
	char *nl = memchr(buf, '\n', len);
	size_t ll = nl ? strnlen(nl + 1, len - (size_t)(nl + 1 - buf)) : 0;
	if (!nl || (size_t)(nl - buf) != sizeof MAGIC + 16 ||
	    strncmp(buf, MAGIC " ", sizeof MAGIC) != 0 ||
	    nl + 1 + ll >= buf + len + (len ? 0 : 1)) {
		uc_err(cmd, "%s: not a commit journal", j->plan);
		free(buf);
		return -1;
	}
	if (strcmp(nl + 1, lower) != 0) {
		uc_err(cmd, "the work dir holds an unfinished commit into %s, not "
		       "into --lower %s: finish that one first", nl + 1, lower);
		free(buf);
		return -1;
	}
	memcpy(tag, buf + sizeof MAGIC, 16);
	tag[16] = '\0';
	const char *steps = nl + 1 + ll + 1;
	int rc = us_plan_parse(steps, (size_t)(buf + len - steps), p);
	if (rc < 0)
		uc_err(cmd, "%s: not a commit journal", j->plan);
	free(buf);
	return rc;
}

size_t next_read(const struct journal *j)
{
	size_t len;
	char *buf = read_file(j->next, &len);
	size_t n = buf ? strtoull(buf, NULL, 10) : 0;

	free(buf);
	return n;
}

/* Record that steps before N are done: the number, overwritten in place
 * (one small write: never torn by a kill). */
int next_write(int fd, size_t n)
{
	char v[24];
	int l = snprintf(v, sizeof v, "%020zu", n);

	return pwrite(fd, v, (size_t)l, 0) == l ? 0 : -1;
}

