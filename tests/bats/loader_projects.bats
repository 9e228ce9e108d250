#!/usr/bin/env bats
# Promise (semantics.md "Processes"): a real project's test suite tests the
# library it just built in the union, not an older copy the loader would
# otherwise pick. Two small projects (tests/projects/): GNU libtool's
# `make check` (the test runs through libtool's wrapper, which puts .libs
# first in LD_LIBRARY_PATH; the old copy waits in a system-like dir later
# in LD_LIBRARY_PATH), and CMake's ctest (the test finds the library by its
# build RUNPATH; the old copy is a stale build left in the lower, the union
# seen in place). Each is built under the shim (the build starts with
# LD_PRELOAD only) and on kernel overlayfs, which must agree.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

PROJECTS=$BATS_TEST_DIRNAME/../projects

setup_file() {
	command -v autoreconf >/dev/null && command -v libtoolize >/dev/null &&
		command -v cmake >/dev/null && command -v ctest >/dev/null ||
		skip "autoconf, automake, libtool and cmake are needed (.ci/run installs them)"
	# the autotools project, bootstrapped once outside any union
	local d=$BATS_FILE_TMPDIR/autotools
	cp -r "$PROJECTS/autotools" "$d"
	mkdir -p "$d/m4"
	(cd "$d" && autoreconf -fi >/dev/null 2>&1)
}

setup() {
	command -v cmake >/dev/null && [ -x "$BATS_FILE_TMPDIR/autotools/configure" ] ||
		skip "autoconf, automake, libtool and cmake are needed (.ci/run installs them)"
	make_layers
	BROKEN=()
	SYS=$ROOT/sys
	mkdir -p "$SYS"
}

teardown() {
	unmount_union
}

# The older installed copy: same soname, says it is 1.0.
old_greet() {
	cc -shared -fPIC -DGREET_VERSION='"1.0"' -Wl,-soname,libgreet.so.2 \
		-o "$1/libgreet.so.2" "$PROJECTS/cmake/greet.c"
	ln -sf libgreet.so.2 "$1/libgreet.so"
}

# configure, make, make check in the union at $U; the test's log.
autotools_check() {
	"${RUN[@]}" sh -c "cd '$U' && ./configure -q --disable-static >/dev/null &&
		make -s >/dev/null 2>&1 && LD_LIBRARY_PATH='$SYS' make -s check >/dev/null 2>&1
		echo status \$?; cat test_greet.log | grep '^test_greet'"
}

autotools_want="status 0
test_greet: built 2.0, library says 2.0"

@test "libtool: make check tests the library built in the union (shim)" {
	cp -r "$BATS_FILE_TMPDIR/autotools/." "$LOWER/"
	old_greet "$SYS"
	use_union shim
	expect "make check loads the new libgreet" "$autotools_want" "$(autotools_check)"
	verdict
}

@test "libtool: make check tests the library built in the union (overlayfs)" {
	cp -r "$BATS_FILE_TMPDIR/autotools/." "$LOWER/"
	old_greet "$SYS"
	use_union overlayfs
	expect "make check loads the new libgreet" "$autotools_want" "$(autotools_check)"
	verdict
}

# cmake, build, ctest in the union seen in place at $LOWER.
cmake_check() {
	"${RUN[@]}" sh -c "cd '$LOWER' && cmake -S . -B build >/dev/null &&
		cmake --build build >/dev/null 2>&1 && cd build && ctest -V >ctest.out 2>&1
		echo status \$?; grep -o 'test_greet: .*' ctest.out"
}

cmake_setup() {
	cp -r "$PROJECTS/cmake/." "$LOWER/"
	mkdir "$LOWER/build"
	old_greet "$LOWER/build" # a stale build in the lower
}

cmake_want="status 0
test_greet: built 2.0, library says 2.0"

@test "cmake: ctest tests the library built in the union, in place (shim)" {
	cmake_setup
	RUN=(env LD_PRELOAD="$SHIM_LIB"
		UNIONSHIM_MOUNTS="target=$LOWER,lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK")
	expect "ctest loads the new libgreet" "$cmake_want" "$(cmake_check)"
	verdict
}

@test "cmake: ctest tests the library built in the union, in place (overlayfs)" {
	cmake_setup
	need_overlay
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK" "$LOWER" ||
		skip "kernel overlayfs cannot be mounted in place here"
	MOUNTED=$LOWER
	RUN=(env)
	expect "ctest loads the new libgreet" "$cmake_want" "$(cmake_check)"
	verdict
}
