#!/usr/bin/env bats
# getdents64, through syscall() and glibc's getdents64(), lists a union dir
# merged: upper and lower names, without whiteouts or hidden names, across
# several calls with a small buffer, and again after a rewind.

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/d" "$UPPER/d" "$LOWER2/d"
	for i in $(seq 1 12); do echo "$i" > "$LOWER/d/lower-file-$i"; done
	echo u > "$UPPER/d/upper-only"
	echo l2 > "$LOWER2/d/bottom-only"
	echo gone > "$LOWER/d/hidden"
	: > "$UPPER/d/.wh.hidden"
	{ echo .; echo ..; for i in $(seq 1 12); do echo "lower-file-$i"; done
	  echo upper-only; echo bottom-only; } | sort > "$BATS_TEST_TMPDIR/expected"
}

check_listing() {
	run in_union "$(probe getdents_probe)" "$1" "$TARGET/d"
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep -v '^again ' | sort > "$BATS_TEST_TMPDIR/got"
	diff -u "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/got"
	[ "${lines[-1]}" = "again 16" ]
}

@test "getdents64 through syscall() lists the merged union dir" {
	check_listing syscall
}

@test "glibc's getdents64() lists the merged union dir" {
	check_listing libc
}

# lseek of a dir fd: SEEK_SET and SEEK_CUR everywhere; SEEK_END, SEEK_DATA
# and SEEK_HOLE of a merged dir EINVAL, as overlayfs (its position is an
# index into the merged listing); a dir of one layer seeks as that layer's.
seeks() {
	"$@" python3 - "$TARGET" <<'PY'
import errno, os, sys
t = sys.argv[1]
os.mkdir(t + "/new")
for d in ["d", "new"]:
    fd = os.open(t + "/" + d, os.O_RDONLY | os.O_DIRECTORY)
    for name, how in [("SET", os.SEEK_SET), ("CUR", os.SEEK_CUR), ("END", os.SEEK_END),
                      ("DATA", os.SEEK_DATA), ("HOLE", os.SEEK_HOLE)]:
        try:
            os.lseek(fd, 0, how)
            print(d, name, "ok")
        except OSError as e:
            print(d, name, errno.errorcode[e.errno])
    os.close(fd)
PY
}

@test "lseek of a merged dir takes SEEK_SET and SEEK_CUR, EINVAL for the rest, as overlayfs" {
	run -0 seeks in_union
	[ "$output" = "$(printf '%s\n' 'd SET ok' 'd CUR ok' 'd END EINVAL' 'd DATA EINVAL' 'd HOLE EINVAL' \
		'new SET ok' 'new CUR ok' 'new END ok' 'new DATA ok' 'new HOLE ok')" ]
}
