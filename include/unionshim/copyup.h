/* copyup.h: bringing union objects into the upper layer, and the upper
 * layer's own bookkeeping (whiteouts, opaque dirs, the work dir).
 *
 * Every change is made so that no process ever sees a half-done state:
 * data and metadata are written to a temp object in the work dir, which is
 * then renamed into place; copy-ups of one object by several processes are
 * serialized with a lock file in the work dir, so one copy wins, whole. */
#ifndef UNIONSHIM_COPYUP_H
#define UNIONSHIM_COPYUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "unionshim/lookup.h"

/* Make the union dir UPATH exist in the upper layer, its ancestors first,
 * each with the metadata of its topmost copy. 0, or -1 with errno. */
int us_copyup_dir(const struct us_mount *m, const char *upath);

/* Copy the object NODE at UPATH into the upper layer (a no-op when it is
 * there already, but for an upper metacopy, which gets its data:
 * metacopy.h). DATA false copies a regular file's metadata only (the
 * caller truncates it anyway). 0, or -1 with errno. */
int us_copyup(const struct us_mount *m, const char *upath,
	      const struct us_node *node, bool data);

/* The same with PARENT (or NULL), the lookup's node of UPATH's dir: when
 * it says the dir is in the upper layer, that is not asked again. */
int us_copyup_in(const struct us_mount *m, const char *upath,
		 const struct us_node *node, const struct us_node *parent,
		 bool data);

/* Copy real object SRC (a non-directory outside the union, say a lower's
 * own file) whole, with its metadata, to the new upper path DST through a
 * temp in M's work dir: a new object with an identity of its own, DST
 * appearing whole or not at all. 0, or -1 with errno (EEXIST when DST is
 * taken). */
int us_copy_new(const struct us_mount *m, const char *src, const char *dst);

/* Is NAME in union dir UPATH (node DIR) present in some layer below the
 * upper one (so removing it needs a whiteout)? */
bool us_exists_below(const struct us_mount *m, const char *upath,
		     const struct us_node *dir, const char *name);

/* Write a whiteout for the last component of UPATH in the upper layer
 * (its parent is already there, the name free there): OCI form, or a
 * 0/0 char device in the name's place when .wh.NAME does not fit
 * (us_whiteout_oci). 0, or -1 with errno. */
int us_whiteout_create(const struct us_mount *m, const char *upath);

/* Make the empty regular file PATH (a whiteout or an opaque marker)
 * without taking an fd, so it works for a process with none left, as
 * the unlink or mkdir it serves would natively. With EXCL an existing
 * name is EEXIST; without, an existing regular file is kept. 0, or -1
 * with errno. */
int us_make_marker(const char *path, bool excl);

/* Remove a whiteout for the last component of UPATH, if the upper layer
 * has one. */
void us_whiteout_clear(const struct us_mount *m, const char *upath);

/* An overlayfs-form whiteout (char device 0/0) at UPATH in the upper
 * layer is replaced by an OCI one, freeing the name for a new object.
 * 0, or -1 with errno. */
int us_whiteout_normalize(const struct us_mount *m, const char *upath);

/* Is the last component of UPATH whited out in the upper layer (OCI
 * form)? */
bool us_whiteout_present(const struct us_mount *m, const char *upath);

/* Does the whiteout of UPATH's last component take the OCI form (.wh.NAME
 * fits in NAME_MAX and PATH_MAX)? Else it is a char device 0/0 in the
 * name's own place, which an object must replace (us_whiteout_replace)
 * and which an upper object leaves behind when it goes
 * (us_upper_remove_whiteout). */
bool us_whiteout_oci(const struct us_mount *m, const char *upath);

/* Is the upper object at UPATH a char device 0/0 whiteout (left so by
 * us_whiteout_normalize: a long name's)? */
bool us_whiteout_inplace(const struct us_mount *m, const char *upath);

/* A new temp path in the work dir for an object to be put in the place of
 * an in-place whiteout. 0, or -1 with errno. */
int us_whiteout_temp(const struct us_mount *m, char *out, size_t len);

/* Put the object built at TMP (a DIR or not) where the in-place whiteout
 * of UPATH is, in one step. 0, or -1 with errno (TMP left). */
int us_whiteout_replace(const struct us_mount *m, const char *upath,
			const char *tmp, bool dir);

/* Replace the upper object at UPATH (a DIR holding only hidden entries,
 * or not) by an in-place whiteout in one step, then remove it. 0, or -1
 * with errno (the object back in place). */
int us_upper_remove_whiteout(const struct us_mount *m, const char *upath,
			     bool dir);

/* Create the union dir UPATH (missing; parent in upper) with MODE: opaque
 * when a whiteout in the upper layer stood for it. 0, or -1 with errno. */
int us_mkdir_upper(const struct us_mount *m, const char *upath, mode_t mode);

/* Empty the upper copy of a dir of its whiteouts and opaque marker (the
 * names a union listing never shows) so it can be removed. */
int us_upper_dir_clear(const struct us_mount *m, const char *upath);

/* The same for a real dir (one moved into the work dir). ENOTEMPTY when
 * it holds anything else. */
int us_real_dir_clear(const char *dir);

/* Remove leftovers of copy-ups whose process died, once per mount and
 * process: at startup in a process that validated its configuration, and
 * before its first copy-up in one that adopted its parent's record (the
 * parent cleaned when it started; a program that never copies up does
 * not scan the work dir). */
void us_workdir_clean(const struct us_mount *m);

/* The pid a temp name in the work dir carries (us_workdir_clean knows a
 * dead copier's leftovers by it): the preload library's own cached pid (a
 * memory load, right in every child: forks.h) through the hook, getpid()
 * where the hook is not set (tools, unit tests). */
extern pid_t (*us_pid_hook)(void);
pid_t us_temp_pid(void);

#endif
