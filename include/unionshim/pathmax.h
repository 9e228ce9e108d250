/* pathmax.h: how long a union or real path the library holds.
 *
 * The kernel limits each call's path string to PATH_MAX, not the depth of
 * a tree: a program reaches any depth through relative steps (chdir, a
 * dirfd). The union's own paths (the virtual cwd, a union path joined
 * from it, the real path of a layer's copy) are held in buffers of
 * US_PATH_MAX; a real call on a path longer than PATH_MAX goes through a
 * dirfd opened in pieces (longpath.h). */
#ifndef UNIONSHIM_PATHMAX_H
#define UNIONSHIM_PATHMAX_H

#include <limits.h>

#define US_PATH_MAX (8 * PATH_MAX)

#endif
