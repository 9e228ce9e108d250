#!/usr/bin/env bats
# Promise (semantics.md "Processes", "A lower dir is never written"):
# posix_spawn file actions act on the union: each path is resolved from
# the dir the child is in when that action runs (after the addchdir_np and
# addfchdir_np actions before it, in order, an fchdir to a dir an earlier
# action opened included); a write through an action copies up (or, in a
# read-only union, makes posix_spawn fail with EROFS); the child's own cwd
# is the union dir it was moved to. Each scenario runs on kernel overlayfs
# over the same layers and under the shim; the answers must match and the
# lower dirs stay unchanged.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	BROKEN=()
}

teardown() {
	unmount_union
}

sa_layers() {
	make_layers
	mkdir -p "$LOWER/d/sub" "$LOWER2/d/sub2"
	echo "lower g" >"$LOWER/d/g"
	echo "lower h" >"$LOWER/d/sub/h"
	echo "lower2 k" >"$LOWER2/d/sub2/k"
}

lowers() {
	snapshot "$LOWER"
	snapshot "$LOWER2"
}

# Rows "WHAT|ACTIONS": ACTIONS for spawn_actions, U standing for the union
# dir; the child prints its cwd, writes a line to fd 3 and reads fd 4.
ROWS=(
	"fchdir to a lower-only union dir, then a relative create|fchdir:U/d append:3:new1 read:4:g"
	"fchdir to a union dir, then a relative append to a lower file (copy-up)|fchdir:U/d append:3:g read:4:sub/h"
	"fchdir to the union root, then a relative path into a lower-only dir|fchdir:U append:3:d/sub/h read:4:d/sub2/k"
	"chdir into the union, then a relative create|chdir:U/d append:3:sub/new2 read:4:g"
	"chdir, then a relative chdir, then a relative create|chdir:U/d chdir:sub append:3:new3 read:4:h"
	"fchdir, then a relative chdir, then .. in a create|fchdir:U/d chdir:sub2 append:3:../new4 read:4:k"
	"chdir, then an fchdir to an fd an earlier action opened|chdir:/ opendir:5:U/d/sub fchdirfd:5 append:3:new5 read:4:h"
	"an fchdir to an fd put in place by dup2|opendir:6:U/d dup2:6:7 fchdirfd:7 append:3:new6 read:4:g"
	"fchdir to a union dir, then chdir out of the union by ..|fchdir:U/d chdir:../.. append:3:target_sibling read:4:target/d/g"
	"fchdir, then a truncating open of a lower file|fchdir:U/d trunc:3:g read:4:sub/h"
)

sa_run() {
	local mode=$1 row what actions a before
	sa_layers
	before=$(lowers)
	use_union "$mode"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r what actions <<<"$row"
		local -a acts=()
		for a in $actions; do acts+=("${a//U/$U}"); done
		echo "== $what"
		(cd "$ROOT" && "${RUN[@]}" "$(probe spawn_actions)" "${acts[@]}" -- /bin/sh -c \
			'/bin/pwd; echo "written by the child" >&3; cat <&4' 2>&1) |
			sed "s|$U|U|g; s|$ROOT|ROOT|g"
	done
	echo "== the union after"
	"${RUN[@]}" sh -c 'cd "$1" && find . | LC_ALL=C sort | while read -r f; do
		if [ -f "$f" ]; then echo "$f: $(cat "$f" | tr "\n" " ")"; else echo "$f"; fi
	done' sh "$U"
	echo "== next to it"
	ls "$ROOT"
	cat "$ROOT/target_sibling" 2>&1 | sed "s|$ROOT|ROOT|g"
	expect "the lower dirs are never written ($mode)" "$before" "$(lowers)"
	unmount_union
}

@test "posix_spawn file actions: chdir/fchdir then relative opens act on the union, and the child's cwd is the union dir, as on kernel overlayfs" {
	need_overlay
	local want=$BATS_TEST_TMPDIR/overlayfs.out got=$BATS_TEST_TMPDIR/shim.out
	sa_run overlayfs >"$want"
	sa_run shim >"$got"
	# a check of the scenario itself
	grep -qx 'U/d' "$want"
	grep -qx './d/new1: written by the child ' "$want"
	if ! cmp -s "$want" "$got"; then
		echo "shim (+) differs from kernel overlayfs (-):"
		diff "$want" "$got" || true
		BROKEN+=("the shim's answers are kernel overlayfs's (diff above)")
	fi
	verdict
}

# In a read-only union a write through an action fails the spawn with
# EROFS (the child never runs), after an fchdir or a chdir as well.
ro_run() {
	local mode=$1 before
	sa_layers
	before=$(lowers)
	if [ "$mode" = shim ]; then
		RUN=(in_union_ro)
	else
		need_overlay
		mount -t overlay overlay -o "lowerdir=$LOWER:$LOWER2" "$TARGET"
		MOUNTED=$TARGET
		RUN=(env)
	fi
	for actions in "fchdir:$TARGET/d append:3:new" "fchdir:$TARGET/d append:3:g" \
		"chdir:$TARGET/d trunc:3:sub/h" "fchdir:$TARGET append:3:d/new" \
		"fchdir:$TARGET/d read:3:g"; do
		# shellcheck disable=SC2086
		(cd "$ROOT" && "${RUN[@]}" "$(probe spawn_actions)" $actions -- /bin/sh -c '/bin/pwd; cat <&3' 2>&1) |
			sed "s|$TARGET|U|g"
	done
	expect "the lower dirs are never written ($mode)" "$before" "$(lowers)"
	unmount_union
}

RO_WANT="spawn: EROFS
spawn: EROFS
spawn: EROFS
spawn: EROFS
U/d
lower g
spawn: OK, exit=0"

@test "posix_spawn file actions in a read-only union: a write after fchdir/chdir fails the spawn with EROFS (overlayfs oracle)" {
	ro_run overlayfs >"$BATS_TEST_TMPDIR/out"
	expect "read-only overlayfs" "$RO_WANT" "$(cat "$BATS_TEST_TMPDIR/out")"
	verdict
}

@test "posix_spawn file actions in a read-only union: a write after fchdir/chdir fails the spawn with EROFS (shim)" {
	ro_run shim >"$BATS_TEST_TMPDIR/out"
	expect "read-only union" "$RO_WANT" "$(cat "$BATS_TEST_TMPDIR/out")"
	verdict
}
