/* rlimit_probe: the soft core limit as the program sees it through each
 * libc entry and raw system call, and as the kernel holds it
 * (/proc/self/limits). Steps, from the arguments, in order:
 *   show       one line: getrlimit getrlimit64 prlimit sys_getrlimit
 *              sys_prlimit64 kernel (inf for no limit)
 *   set N      setrlimit(RLIMIT_CORE, {N, hard as it is}): OK or errno
 *   pset N     the same through prlimit(0, ...), printing the old soft
 *   sysset N   the same through syscall(SYS_prlimit64, 0, ...)
 *   cd DIR     chdir(DIR)
 *   faults     bad pointers and values: each errno */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe_io.h"

static const char *val(rlim_t v)
{
	char *s = ring();
	if (v == RLIM_INFINITY)
		return "inf";
	snprintf(s, 64, "%llu", (unsigned long long)v);
	return s;
}

static const char *kernel_soft(void)
{
	FILE *f = fopen("/proc/self/limits", "r");
	char line[256], *s = ring();

	strcpy(s, "?");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "Max core file size", 18) == 0) {
			sscanf(line + 18, "%63s", s);
			if (strcmp(s, "unlimited") == 0)
				strcpy(s, "inf");
		}
	if (f)
		fclose(f);
	return s;
}

static void show(void)
{
	struct rlimit a = {7, 7}, c = {7, 7}, d = {7, 7};
	struct rlimit64 b = {7, 7}, e = {7, 7};

	getrlimit(RLIMIT_CORE, &a);
	getrlimit64(RLIMIT_CORE, &b);
	prlimit(0, RLIMIT_CORE, NULL, &c);
	syscall(SYS_getrlimit, RLIMIT_CORE, &d);
	syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, &e);
	say("show %s %s %s %s %s kernel=%s", val(a.rlim_cur), val(b.rlim_cur),
	    val(c.rlim_cur), val(d.rlim_cur), val(e.rlim_cur), kernel_soft());
}

static struct rlimit with_soft(const char *n)
{
	struct rlimit rl;
	getrlimit(RLIMIT_CORE, &rl);
	rl.rlim_cur = strcmp(n, "inf") == 0 ? RLIM_INFINITY : strtoull(n, NULL, 10);
	return rl;
}

static void faults(void)
{
	struct rlimit rl, big;
	getrlimit(RLIMIT_CORE, &rl);
	big = rl;
	big.rlim_max = rl.rlim_max == RLIM_INFINITY ? rl.rlim_max : rl.rlim_max + 1;
	big.rlim_cur = big.rlim_max;
	struct rlimit over = {rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1,
			      rl.rlim_max};
	int r;

	r = setrlimit(RLIMIT_CORE, (const struct rlimit *)(uintptr_t)8);
	say("setrlimit-badptr %s", r ? ename(errno) : "OK");
	r = prlimit(0, RLIMIT_CORE, (const struct rlimit *)(uintptr_t)8, NULL);
	say("prlimit-badptr %s", r ? ename(errno) : "OK");
	r = (int)syscall(SYS_setrlimit, RLIMIT_CORE, (const struct rlimit *)(uintptr_t)8);
	say("sys-setrlimit-badptr %s", r ? ename(errno) : "OK");
	r = over.rlim_cur == RLIM_INFINITY ? -2 : setrlimit(RLIMIT_CORE, &over);
	say("soft-over-hard %s", r == -2 ? "n/a" : r ? ename(errno) : "OK");
	show();
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		struct rlimit rl, old = {7, 7};
		int r;
		if (strcmp(s, "show") == 0) {
			show();
		} else if (strcmp(s, "faults") == 0) {
			faults();
		} else if (i + 1 < argc && strcmp(s, "cd") == 0) {
			r = chdir(argv[++i]);
			say("cd %s", r ? ename(errno) : "OK");
		} else if (i + 1 < argc && strcmp(s, "set") == 0) {
			rl = with_soft(argv[++i]);
			r = setrlimit(RLIMIT_CORE, &rl);
			say("set %s", r ? ename(errno) : "OK");
		} else if (i + 1 < argc && strcmp(s, "pset") == 0) {
			rl = with_soft(argv[++i]);
			r = prlimit(0, RLIMIT_CORE, &rl, &old);
			say("pset %s old=%s", r ? ename(errno) : "OK", val(old.rlim_cur));
		} else if (i + 1 < argc && strcmp(s, "sysset") == 0) {
			rl = with_soft(argv[++i]);
			r = (int)syscall(SYS_prlimit64, 0, RLIMIT_CORE, &rl, &old);
			say("sysset %s old=%s", r ? ename(errno) : "OK", val(old.rlim_cur));
		} else {
			fprintf(stderr, "rlimit_probe: unknown step %s", s);
			return 2;
		}
	}
	return 0;
}
