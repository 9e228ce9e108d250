/* tarout.h: a tar stream (pax, by libarchive) written to an fd, plain or
 * compressed, with the two digests an OCI image needs: the blob's (what
 * was written) and the diff_id (the uncompressed tar's). */
#ifndef TAROUT_H
#define TAROUT_H

#include <stdint.h>

struct archive_entry;

enum uc_comp { UC_PLAIN, UC_GZIP, UC_ZSTD };

struct uc_tar;

/* Start a tar on OUTFD. NULL with a message in ERR (ERRLEN bytes). */
struct uc_tar *uc_tar_open(int outfd, enum uc_comp comp, char *err,
			   size_t errlen);

/* Write the header E and, for a regular file of nonzero size, its data
 * read from DATAFD (exactly the size E says). 0, or -1 with ERR. */
int uc_tar_add(struct uc_tar *t, struct archive_entry *e, int datafd,
	       char *err, size_t errlen);

/* Bytes written to the fd so far. */
uint64_t uc_tar_written(const struct uc_tar *t);

/* End the tar and free T: DIGEST and DIFF_ID get "sha256:<hex>" (72
 * bytes each), *SIZE the blob's size. 0, or -1 with ERR. */
int uc_tar_close(struct uc_tar *t, char *digest, char *diff_id,
		 uint64_t *size, char *err, size_t errlen);

/* Free T after a failure. */
void uc_tar_abort(struct uc_tar *t);

#endif
