/* config.h: the table of mounts, parsed from overlayfs-style option strings.
 *
 * One mount is "target=DIR,lowerdir=TOP:...:BOTTOM[,upperdir=DIR,workdir=DIR]";
 * several are joined with ';'. A backslash escapes ',', ':', ';' or '\'
 * inside a path, as overlayfs escapes ',' and ':'. Parsing is split from
 * validation so that the grammar can be tested without a filesystem. */
#ifndef UNIONSHIM_CONFIG_H
#define UNIONSHIM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define US_MAX_LAYERS 64 /* a layer set is a uint64_t bit mask */
#define US_MAX_MOUNTS 16

/* The environment variables the shim reads (see README). */
#define US_ENV_MOUNTS "UNIONSHIM_MOUNTS"
#define US_ENV_CWD "UNIONSHIM_CWD"
#define US_ENV_ALLOW "UNIONSHIM_ALLOW_UNFOLLOWED"
#define US_ENV_TRACE "UNIONSHIM_TRACE"
#define US_ENV_TRACE_FILE "UNIONSHIM_TRACE_FILE"

struct us_layer {
	char *path; /* canonical, no trailing slash */
	size_t len;
};

struct us_mount {
	char *target; /* canonical, no trailing slash, never "/" */
	size_t target_len;
	char *work;   /* NULL for a read-only union */
	int has_upper; /* layers[0] is the upper dir */
	int nlayers;  /* upper (if any) then lowers, topmost first */
	struct us_layer layers[US_MAX_LAYERS];
	uint64_t root_dirs; /* layers whose root joins the merged root */
	int samefs; /* every layer on one filesystem: 2 yes, 1 no, 0 not known
		       yet (identity.c finds out); a handover sets it */
	uint64_t dev; /* the union's st_dev (identity.c us_mount_dev), kept
			 at its first use; 0: not yet (set when TARGET is) */
	uint64_t lower_redirects; /* lowers whose root is marked as holding
				     redirect records (redirect.c), read at
				     first use: valid once the next is 1 */
	int lower_redirects_known;
};

/* What M->samefs should hold (2: every layer on one filesystem, 1:
 * several), asked of the filesystem: one stat per layer (layer.c). */
int us_layers_samefs(const struct us_mount *m);

struct us_config {
	int nmounts;
	struct us_mount mounts[US_MAX_MOUNTS];
};

/* Parse SPEC into CFG without touching the filesystem. Returns 0, or -1 with
 * a one-line description of what is wrong in ERR. */
int us_config_parse(const char *spec, struct us_config *cfg, char *err,
		    size_t errlen);

/* Check every mount against the filesystem and make its paths canonical:
 * dirs exist, layers do not nest, work dir on the upper's filesystem, and
 * no other mount uses (or nests with) a mount's upper or work dir.
 * Returns 0, or -1 with ERR filled. */
int us_config_validate(struct us_config *cfg, char *err, size_t errlen);

/* The same, for dirs a tool is about to create: an upper or work dir that
 * does not exist yet passes when its parent is a directory; it is checked
 * as the path it will have (the parent's canonical path and its name) on
 * the parent's filesystem. Nothing is created. */
int us_config_validate_planned(struct us_config *cfg, char *err,
			       size_t errlen);

/* The rules of us_config_validate that read only the text (layers and
 * mounts apart): for a configuration whose paths are known canonical and
 * whose dirs were checked another way (handover.h). */
int us_config_check_text(const struct us_config *cfg, char *err,
			 size_t errlen);

/* Render CFG back into the spec grammar (for children and tools). */
int us_config_format(const struct us_config *cfg, char *out, size_t outlen);

/* Bytes enough for us_config_format of CFG (its paths may be longer than
 * the spec they came from once validation made them canonical). */
size_t us_config_format_room(const struct us_config *cfg);

void us_config_free(struct us_config *cfg);

#endif
