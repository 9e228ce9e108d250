/* unionctl.h: the commands of unionctl, one file each. A command gets its
 * own argv (argv[0] is its name) and returns the exit status: 0 done,
 * 1 it failed (or, for check, found problems), 2 a usage error (nothing
 * was done). */
#ifndef UNIONCTL_H
#define UNIONCTL_H

int uc_diff(int argc, char **argv);
int uc_commit(int argc, char **argv);
int uc_export(int argc, char **argv);
int uc_check(int argc, char **argv);

#endif
