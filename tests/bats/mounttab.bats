#!/usr/bin/env bats
# Promise (semantics: a union looks like a mount): df, findmnt, mountpoint,
# stat -f and getmntent see a mount at the union's target, as on kernel
# overlayfs: /proc/self/mountinfo, /proc/self/mounts, /proc/mounts and
# /etc/mtab have a line for it (type unionshim, the device number stat
# reports for its objects, the options as given, rw or ro), and
# statfs/fstatfs/statvfs of any union object report the upper's
# filesystem (the top lower's for a read-only union), not the one the
# object happens to lie on.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
}

teardown() {
	unmount_union
	for m in "$ROOT/small"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	true
}

# The scenario, on union dir $U through ${RUN[@]}: one line per answer.
tables() {
	"${RUN[@]}" sh -c '
		mountpoint -q "$1" && echo "mountpoint: yes" || echo "mountpoint: no"
		echo "findmnt: $(findmnt -n -o TARGET -T "$1/d/f")"
		echo "df: $(df --output=target "$1/d/f" | tail -n 1)"
		dev=$(stat -c "%Hd:%Ld" "$1/d/f")
		n=$(awk -v d="$dev" -v t="$1" "\$3 == d && \$5 == t" /proc/self/mountinfo | wc -l)
		echo "mountinfo lines with the object dev at the target: $n"
		for tab in /proc/self/mounts /proc/mounts /etc/mtab; do
			echo "$tab: $(awk -v t="$1" "\$2 == t { print substr(\$4, 1, 2) }" $tab)"
		done' sh "$U"
}

@test "mounttab: the union is in the mount tables, as overlayfs is" {
	use_union shim
	local shim
	shim=$(tables)
	[ "$(in_union awk -v t="$TARGET" '$5 == t { print $9 }' /proc/self/mountinfo)" = unionshim ]
	[ "$(in_union findmnt -n -o FSTYPE -T "$TARGET/d")" = unionshim ]
	use_union overlayfs
	BROKEN=()
	expect "df, findmnt, mountpoint and the tables see a mount at the target" "$(tables)" "$shim"
	verdict
}

@test "mounttab: getmntent sees the union; a read-only union is ro" {
	cat >"$BATS_TEST_TMPDIR/ment.c" <<'C'
#include <mntent.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *e;
	while (f && (e = getmntent(f)))
		if (strcmp(e->mnt_dir, argv[1]) == 0)
			printf("%s %s %s\n", e->mnt_type, hasmntopt(e, "ro") ? "ro" : "rw",
			       hasmntopt(e, "upperdir") ? "upper" : "-");
	return 0;
}
C
	cc -o "$BATS_TEST_TMPDIR/ment" "$BATS_TEST_TMPDIR/ment.c"
	run in_union "$BATS_TEST_TMPDIR/ment" "$TARGET"
	[ "$output" = "unionshim rw upper" ]
	run in_union_ro "$BATS_TEST_TMPDIR/ment" "$TARGET"
	[ "$output" = "unionshim ro -" ]
	run "$BATS_TEST_TMPDIR/ment" "$TARGET"
	[ -z "$output" ]
}

@test "mounttab: statfs, fstatfs and statvfs of a lower file report the upper's filesystem" {
	# upper and work on a small tmpfs: its figures differ from the lower's
	mkdir -p "$ROOT/small"
	mount -t tmpfs -o size=3m tmpfs "$ROOT/small" || skip "cannot mount tmpfs"
	mkdir -p "$ROOT/small/upper" "$ROOT/small/work"
	UPPER=$ROOT/small/upper
	WORK=$ROOT/small/work
	local want
	want=$(stat -f -c '%t %b' "$UPPER")
	figures() {
		"${RUN[@]}" sh -c 'stat -f -c "%t %b" "$1/d/f"
			python3 -c "import os,sys; fd = os.open(sys.argv[1], os.O_RDONLY); v = os.fstatvfs(fd); print(v.f_blocks * v.f_frsize // 4096, v.f_flag & 1)" "$1/d/f"
			python3 -c "import os,sys; v = os.statvfs(sys.argv[1]); print(v.f_blocks * v.f_frsize // 4096, v.f_flag & 1)" "$1/d"' sh "$U"
	}
	use_union shim
	local shim
	shim=$(figures)
	[ "$(head -n 1 <<<"$shim")" = "$want" ]
	run in_union_ro stat -f -c '%b' "$TARGET/d/f"
	[ "$output" = "$(stat -f -c '%b' "$LOWER")" ]
	run in_union_ro python3 -c "import os; print(os.statvfs('$TARGET/d').f_flag & 1)"
	[ "$output" = 1 ]
	use_union overlayfs
	BROKEN=()
	expect "the upper's figures, from a path and from an fd" "$(figures | sed 's/^794c7630 /1021994 /')" "$shim"
	verdict
}
