/* tarout.c: the tar writer of unionctl export. libarchive writes the
 * format (pax: long names, nanosecond times, xattrs) and the compression;
 * nothing here writes a header by hand. Two archives in a chain: the tar,
 * whose bytes are hashed (diff_id) and handed to a raw archive with the
 * gzip or zstd filter, whose bytes are hashed (digest) and written out.
 * Deterministic: no user or group names, no atime or ctime, the gzip
 * header without a timestamp. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tarout.h"

#define DATA_CHUNK (1 << 20)

struct uc_tar {
	struct archive *tar;  /* the tar format */
	struct archive *comp; /* raw format + filter, or NULL (plain) */
	int fd;
	int werr;             /* errno of a failed write to FD */
	uint64_t written;
	struct sha256_ctx blob, diff;
	char *buf;
};

static int write_out(struct uc_tar *t, const void *buf, size_t n)
{
	const char *p = buf;

	sha256_update(&t->blob, n, buf);
	while (n > 0) {
		ssize_t w = write(t->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			t->werr = w < 0 ? errno : ENOSPC;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		t->written += (uint64_t)w;
	}
	return 0;
}

static la_ssize_t comp_write(struct archive *a, void *arg, const void *buf,
			     size_t n)
{
	struct uc_tar *t = arg;

	if (write_out(t, buf, n) < 0) {
		archive_set_error(a, t->werr, "%s", strerror(t->werr));
		return -1;
	}
	return (la_ssize_t)n;
}

static la_ssize_t tar_write(struct archive *a, void *arg, const void *buf,
			    size_t n)
{
	struct uc_tar *t = arg;

	sha256_update(&t->diff, n, buf);
	if (!t->comp)
		return comp_write(a, arg, buf, n);
	if (archive_write_data(t->comp, buf, n) != (la_ssize_t)n) {
		archive_set_error(a, ARCHIVE_FATAL, "%s",
				  archive_error_string(t->comp));
		return -1;
	}
	return (la_ssize_t)n;
}

static int fail(struct archive *a, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", a && archive_error_string(a)
					    ? archive_error_string(a)
					    : "libarchive failed");
	return -1;
}

/* The raw archive that compresses what the tar writes. */
static struct archive *open_comp(struct uc_tar *t, enum uc_comp comp,
				 char *err, size_t errlen)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int rc = a && e ? ARCHIVE_OK : ARCHIVE_FATAL;

	if (rc == ARCHIVE_OK)
		rc = archive_write_set_format_raw(a);
	if (rc == ARCHIVE_OK)
		rc = comp == UC_GZIP ? archive_write_add_filter_gzip(a)
				     : archive_write_add_filter_zstd(a);
	if (rc == ARCHIVE_OK && comp == UC_GZIP)
		rc = archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_in_last_block(a, 1);
	if (rc == ARCHIVE_OK)
		rc = archive_write_open2(a, t, NULL, comp_write, NULL, NULL);
	if (rc == ARCHIVE_OK) {
		archive_entry_set_pathname(e, "layer.tar");
		archive_entry_set_filetype(e, AE_IFREG);
		rc = archive_write_header(a, e);
	}
	archive_entry_free(e);
	if (rc != ARCHIVE_OK) {
		fail(a, err, errlen);
		if (a)
			archive_write_free(a);
		return NULL;
	}
	return a;
}

struct uc_tar *uc_tar_open(int outfd, enum uc_comp comp, char *err,
			   size_t errlen)
{
	struct uc_tar *t = calloc(1, sizeof *t);

	if (!t || !(t->buf = malloc(DATA_CHUNK))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->fd = outfd;
	sha256_init(&t->blob);
	sha256_init(&t->diff);
	if (comp != UC_PLAIN && !(t->comp = open_comp(t, comp, err, errlen))) {
		uc_tar_abort(t);
		return NULL;
	}
	t->tar = archive_write_new();
	/* xattrs in the SCHILY form alone: the one Go's archive/tar (umoci,
	 * containerd) and GNU tar read */
	if (!t->tar || archive_write_set_format_pax(t->tar) != ARCHIVE_OK ||
	    archive_write_set_format_option(t->tar, "pax", "xattrheader",
					    "SCHILY") != ARCHIVE_OK ||
	    /* names are bytes: any a filesystem holds goes out as it is */
	    archive_write_set_format_option(t->tar, "pax", "hdrcharset",
					    "BINARY") != ARCHIVE_OK ||
	    archive_write_add_filter_none(t->tar) != ARCHIVE_OK ||
	    archive_write_open2(t->tar, t, NULL, tar_write, NULL, NULL) != ARCHIVE_OK) {
		fail(t->tar, err, errlen);
		uc_tar_abort(t);
		return NULL;
	}
	return t;
}

int uc_tar_add(struct uc_tar *t, struct archive_entry *e, int datafd,
	       char *err, size_t errlen)
{
	if (archive_write_header(t->tar, e) != ARCHIVE_OK)
		return fail(t->tar, err, errlen);
	if (datafd < 0 || archive_entry_filetype(e) != AE_IFREG ||
	    archive_entry_hardlink(e))
		return 0;
	int64_t left = archive_entry_size(e);
	while (left > 0) {
		size_t want = left < DATA_CHUNK ? (size_t)left : DATA_CHUNK;
		ssize_t n = read(datafd, t->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s", n < 0 ? strerror(errno)
						 : "file shrank while it was read");
			return -1;
		}
		if (archive_write_data(t->tar, t->buf, (size_t)n) != n)
			return fail(t->tar, err, errlen);
		left -= n;
	}
	return 0;
}

uint64_t uc_tar_written(const struct uc_tar *t)
{
	return t->written;
}

static void hex_digest(struct sha256_ctx *c, char *out)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_digest(c, sizeof d, d);
	strcpy(out, "sha256:");
	for (size_t i = 0; i < sizeof d; i++)
		sprintf(out + 7 + 2 * i, "%02x", d[i]);
}

int uc_tar_close(struct uc_tar *t, char *digest, char *diff_id,
		 uint64_t *size, char *err, size_t errlen)
{
	int rc = 0;

	if (archive_write_close(t->tar) != ARCHIVE_OK)
		rc = fail(t->tar, err, errlen);
	if (rc == 0 && t->comp && archive_write_close(t->comp) != ARCHIVE_OK)
		rc = fail(t->comp, err, errlen);
	if (rc == 0) {
		hex_digest(&t->blob, digest);
		hex_digest(&t->diff, diff_id);
		*size = t->written;
	}
	uc_tar_abort(t);
	return rc;
}

void uc_tar_abort(struct uc_tar *t)
{
	if (!t)
		return;
	if (t->tar)
		archive_write_free(t->tar);
	if (t->comp)
		archive_write_free(t->comp);
	free(t->buf);
	free(t);
}
