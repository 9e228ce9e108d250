/* copyup_many: open each PATH for writing and close it (a copy-up of each
 * under the shim), in one process with no other system calls between, so
 * a trace counts a copy-up's own calls. Run by tests/bats/copyup_cost.bats.
 *
 * Usage: copyup_many [-t] PATH...
 *   -t: each open in a thread of its own, one thread after another; prints
 *       how much VmData (KiB) grew from after the 8th thread to the end.
 * Prints "ERRNONAME PATH" and exits 1 when an open fails. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_io.h"

static void *open_one(void *arg)
{
	const char *path = arg;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("%s %s\n", strerrorname_np(errno), path);
		exit(1);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 && strcmp(argv[1], "-t") == 0;
	long before = 0;

	for (int i = 1 + threads; i < argc; i++) {
		if (!threads) {
			open_one(argv[i]);
			continue;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, open_one, argv[i]) != 0 ||
		    pthread_join(t, NULL) != 0) {
			printf("thread failed\n");
			return 1;
		}
		if (i == 1 + threads + 7)
			before = status_kib("VmData");
	}
	if (threads)
		printf("%ld\n", status_kib("VmData") - before);
	return 0;
}
