#!/usr/bin/env bats
# Promise (semantics.md "Copy-up", "Removing and renaming", "Lower layers
# stay untouched"): real programs write through a union seen in place (the
# lower keeps its path, unionrun --upper/--work) and work: make -j2, git,
# tar -x, cp -a, sed -i, rm -rf, python3. What they write shows in the
# union and lands in the upper; the lower dir never changes.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

setup() {
	make_layers
	mkdir -p "$LOWER/proj/src" "$LOWER/proj/doc/old"
	cat >"$LOWER/proj/src/util.h" <<'C'
int twice(int x);
C
	cat >"$LOWER/proj/src/util.c" <<'C'
#include "util.h"
int twice(int x) { return 2 * x; }
C
	cat >"$LOWER/proj/src/main.c" <<'C'
#include <stdio.h>
#include "util.h"
int main(void) { printf("answer %d\n", twice(21)); return 0; }
C
	cat >"$LOWER/proj/Makefile" <<'M'
OBJS := src/main.o src/util.o
app: $(OBJS)
	$(CC) -o $@ $(OBJS)
src/%.o: src/%.c src/util.h
	$(CC) -c -o $@ $<
M
	printf 'line one\nline two\n' >"$LOWER/proj/doc/notes.txt"
	for i in 1 2 3; do echo "old $i" >"$LOWER/proj/doc/old/$i"; done
	touch -d @1500000000 "$LOWER/proj/src/"* "$LOWER/proj/Makefile"
	LOWER_BEFORE=$(lower_state)
	P=$LOWER/proj
}

# Run CMD... in the union seen in place at $LOWER; it must succeed.
inplace() {
	run --separate-stderr "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" -- "$@"
	if [ "$status" -ne 0 ]; then
		echo "$*: status $status, output: $output, stderr: $stderr"
		return 1
	fi
}

@test "make -j2 builds in place: objects land in the upper, sources untouched" {
	inplace make -C "$P" -j2
	[ -f "$UPPER/proj/src/main.o" ] && [ -f "$UPPER/proj/src/util.o" ] && [ -x "$UPPER/proj/app" ]
	[ ! -e "$P/app" ] && [ ! -e "$P/src/main.o" ]
	inplace "$P/app"
	same "answer 42" "$output"
	inplace make -C "$P" -q app # up to date, seen through the union
	# a source edited through the union rebuilds its object only
	inplace sed -i 's/2 \* x/3 * x/' "$P/src/util.c"
	local main_o
	main_o=$(stat -c %Y.%i "$UPPER/proj/src/main.o")
	sleep 1
	inplace make -C "$P" -j2
	same "$main_o" "$(stat -c %Y.%i "$UPPER/proj/src/main.o")"
	inplace "$P/app"
	same "answer 63" "$output"
	lower_unchanged
}

@test "git init, add and commit in place" {
	inplace bash -c 'cd "$1" && git init -q && git add . &&
		git -c user.name=T -c user.email=t@example.com commit -qm first &&
		echo more >> doc/notes.txt && git add doc/notes.txt &&
		git -c user.name=T -c user.email=t@example.com commit -qm second' _ "$P"
	[ -d "$UPPER/proj/.git" ]
	[ ! -e "$P/.git" ]
	inplace git -C "$P" log --format=%s
	same "second
first" "$output"
	inplace git -C "$P" status --porcelain
	same "" "$output"
	inplace git -C "$P" fsck --no-progress
	lower_unchanged
}

@test "tar -x of an archive into the union, over lower files too" {
	local src=$BATS_TEST_TMPDIR/src
	mkdir -p "$src/proj/doc" "$src/proj/new/deep"
	echo "from tar" >"$src/proj/doc/notes.txt"
	echo "new file" >"$src/proj/new/deep/f"
	ln -s deep/f "$src/proj/new/link"
	chmod 700 "$src/proj/new/deep"
	tar -C "$src" -cf "$BATS_TEST_TMPDIR/a.tar" proj
	inplace tar -C "$LOWER" -xf "$BATS_TEST_TMPDIR/a.tar"
	inplace cat "$P/doc/notes.txt" "$P/new/link" "$P/src/util.h"
	same "from tar
new file
int twice(int x);" "$output"
	inplace stat -c %a "$P/new/deep"
	same 700 "$output"
	same "from tar" "$(cat "$UPPER/proj/doc/notes.txt")"
	lower_unchanged
}

@test "cp -a of a tree into the union keeps modes, times and links" {
	local src=$BATS_TEST_TMPDIR/tree
	mkdir -p "$src/a/b"
	echo one >"$src/a/one"
	echo two >"$src/a/b/two"
	ln -s one "$src/a/sym"
	chmod 751 "$src/a/b"
	touch -h -d @1400000000 "$src/a/one" "$src/a/b/two" "$src/a/sym" "$src/a/b" "$src/a"
	inplace cp -a "$src/a" "$P/doc/copied"
	inplace cp -a "$src/a/." "$P/doc/old" # into a dir that exists below
	local want
	want=$(cd "$src/a" && find . -printf '%p %y %m %T@ %l\n' | LC_ALL=C sort)
	inplace bash -c 'cd "$1" && find . -printf "%p %y %m %T@ %l\n" | LC_ALL=C sort' _ "$P/doc/copied"
	same "$want" "$output"
	inplace cat "$P/doc/old/1" "$P/doc/old/b/two"
	same "old 1
two" "$output"
	lower_unchanged
}

@test "sed -i edits a lower file in place" {
	inplace sed -i 's/two/2/' "$P/doc/notes.txt"
	inplace cat "$P/doc/notes.txt"
	same "line one
line 2" "$output"
	same "line one
line 2" "$(cat "$UPPER/proj/doc/notes.txt")"
	inplace ls -a "$P/doc"
	same ". .. notes.txt old" "$(echo $output)"
	lower_unchanged
}

@test "rm -rf of a lower subtree: gone from the union, still in the lower" {
	inplace rm -rf "$P/doc"
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" -- ls "$P"
	same "Makefile src" "$(echo $output)"
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" -- stat "$P/doc/notes.txt"
	[ "$status" -ne 0 ]
	[ -f "$P/doc/notes.txt" ] && [ -f "$P/doc/old/3" ]
	# and it can be made again, empty
	inplace mkdir "$P/doc"
	inplace ls -A "$P/doc"
	same "" "$output"
	lower_unchanged
}

@test "python3 writes, renames, replaces and removes files" {
	inplace python3 - "$P" <<'PY'
import os, sys
p = sys.argv[1]
os.makedirs(os.path.join(p, "out/sub"))
with open(os.path.join(p, "out/sub/data.tmp"), "w") as f:
    f.write("payload\n")
os.rename(os.path.join(p, "out/sub/data.tmp"), os.path.join(p, "out/sub/data"))
with open(os.path.join(p, "doc/notes.new"), "w") as f:
    f.write("replaced\n")
os.replace(os.path.join(p, "doc/notes.new"), os.path.join(p, "doc/notes.txt"))
os.rename(os.path.join(p, "doc/old/1"), os.path.join(p, "doc/old/one"))
os.remove(os.path.join(p, "doc/old/2"))
with open(os.path.join(p, "doc/old/3"), "a") as f:
    f.write("appended\n")
PY
	inplace bash -c 'cd "$1" && cat out/sub/data doc/notes.txt doc/old/one doc/old/3 && ls doc/old' _ "$P"
	same "payload
replaced
old 1
old 3
appended
3
one" "$output"
	lower_unchanged
}
