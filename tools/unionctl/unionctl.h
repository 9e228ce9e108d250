/* unionctl.h: the commands of unionctl (one file each), dispatched by
 * main.c. Each takes its own argv (argv[0] is the command's name) and
 * returns the exit status: 0 success, 1 failure (or, for check, problems
 * found), 2 usage. */
#ifndef UNIONCTL_H
#define UNIONCTL_H

int uc_export(int argc, char **argv);

#endif
