#!/usr/bin/env bats
# Lower layers stay untouched: a write under the shim that reaches a real
# path inside a lower dir by another route than the union (the lower's own
# path, a symlink into it, ".." out of the union and back in) fails with
# EROFS and changes nothing, while the same write through the union lands
# in the upper.

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/d"
	echo lower > "$LOWER/d/f"
	ln -s "$LOWER/d" "$ROOT/link-to-lower"
	BEFORE=$(snapshot "$LOWER"; stat -c '%Y %Z' "$LOWER" "$LOWER/d" "$LOWER/d/f")
}

lower_unchanged() {
	[ "$(snapshot "$LOWER"; stat -c '%Y %Z' "$LOWER" "$LOWER/d" "$LOWER/d/f")" = "$BEFORE" ]
}

refused() {
	run in_union sh -c "$1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
}

@test "writes by the lower's own path are refused" {
	refused "echo x > '$LOWER/d/f'"
	refused "echo x > '$LOWER/d/new'"
	refused "rm '$LOWER/d/f'"
	refused "mkdir '$LOWER/d/sub'"
	refused "chmod 600 '$LOWER/d/f'"
	refused "mv '$LOWER/d/f' '$LOWER/d/g'"
	refused "touch '$LOWER/d/f'"
	lower_unchanged
}

@test "writes through a symlink into a lower dir are refused" {
	refused "echo x > '$ROOT/link-to-lower/f'"
	refused "echo x > '$ROOT/link-to-lower/new'"
	refused "rm '$ROOT/link-to-lower/f'"
	lower_unchanged
}

@test "writes by .. out of the union into a lower dir are refused" {
	refused "cd '$TARGET' && echo x > ../lower/d/f"
	refused "echo x > '$TARGET/../lower/d/new'"
	lower_unchanged
}

@test "the same writes through the union land in the upper" {
	run in_union sh -c "echo x > '$TARGET/d/f' && echo y > '$TARGET/d/new' && rm '$TARGET/d/new'"
	[ "$status" -eq 0 ]
	[ "$(cat "$UPPER/d/f")" = x ]
	lower_unchanged
}

@test "reads by the lower's own path still work" {
	run in_union cat "$LOWER/d/f" "$ROOT/link-to-lower/f"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'lower\nlower')" ]
}
