#!/usr/bin/env bats
# Promise (issue 12, "Metadata-only copy-up", for unionctl): an upper
# metacopy (a lower file whose metadata only was changed) is a change of
# its metadata, never of its data: `diff` lists it as M with what changed,
# `export` writes the lower's bytes with the new metadata, `commit` gives
# the lower file the new metadata in place (no copy: its inode stays; a
# file of a lower below the topmost is installed in the topmost first),
# `check` reports a metacopy whose lower data is gone.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

UNIONCTL=$UNIONSHIM_BUILD/unionctl

setup() {
	make_layers
	head -c 1M /dev/urandom >"$LOWER/big"
	head -c 1M /dev/urandom >"$LOWER2/deep"
	chmod 644 "$LOWER/big" "$LOWER2/deep"
	BIG_SUM=$(sha256sum <"$LOWER/big")
	DEEP_SUM=$(sha256sum <"$LOWER2/deep")
	BIG_INO=$(stat -c %i "$LOWER/big")
	in_union chmod 600 "$TARGET/big"
	in_union setfattr -n user.color -v red "$TARGET/deep"
	# metacopies: no data in the upper
	(($(stat -c %b "$UPPER/big") * 512 < 65536))
	(($(stat -c %b "$UPPER/deep") * 512 < 65536))
}

layers() {
	echo --lower "$LOWER" --lower "$LOWER2" --upper "$UPPER" --work "$WORK"
}

@test "diff lists a metacopy as M with what changed, not its data" {
	run "$UNIONCTL" diff --json $(layers)
	echo "$output"
	[ "$status" -eq 0 ]
	same '{"changes": [
  {"change": "M", "path": "big", "type": "file", "what": ["mode"]},
  {"change": "M", "path": "deep", "type": "file", "what": ["xattrs"]}
], "added": 0, "changed": 2, "deleted": 0}' "$output"
}

@test "export writes a metacopy with the lower's bytes and its own metadata" {
	run "$UNIONCTL" export $(layers) -o "$ROOT/x.tar"
	[ "$status" -eq 0 ]
	mkdir "$ROOT/x"
	tar --xattrs --xattrs-include='user.*' -xf "$ROOT/x.tar" -C "$ROOT/x" 2>/dev/null
	same "$BIG_SUM" "$(sha256sum <"$ROOT/x/big")"
	same "$DEEP_SUM" "$(sha256sum <"$ROOT/x/deep")"
	same "600 1048576" "$(stat -c '%a %s' "$ROOT/x/big")"
	same red "$(getfattr -n user.color --only-values "$ROOT/x/deep")"
	# without the lowers its data is nowhere: a clear error, no tarball
	run "$UNIONCTL" export --upper "$UPPER" -o "$ROOT/y.tar"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot export $UPPER/big: a metacopy whose data no --lower dir holds"* ]]
	[ ! -e "$ROOT/y.tar" ]
}

@test "commit gives the lower file a metacopy's metadata in place" {
	run "$UNIONCTL" commit $(layers)
	echo "$output"
	[ "$status" -eq 0 ]
	same "600 $BIG_INO $BIG_SUM" "$(stat -c '%a %i' "$LOWER/big") $(sha256sum <"$LOWER/big")"
	same "$DEEP_SUM" "$(sha256sum <"$LOWER/deep")"
	same red "$(getfattr -n user.color --only-values "$LOWER/deep")"
	same "644 $DEEP_SUM" "$(stat -c %a "$LOWER2/deep") $(sha256sum <"$LOWER2/deep")"
	run getfattr -d -m - "$LOWER/big" "$LOWER/deep"
	[[ "$output" != *unionshim* ]]
	same "" "$(ls -A "$UPPER")"
}

@test "check reports a metacopy whose lower data is gone" {
	run "$UNIONCTL" check $(layers)
	[ "$status" -eq 0 ]
	mv "$LOWER2/deep" "$ROOT/deep.away"
	run "$UNIONCTL" check $(layers)
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"problem: $UPPER/deep: metacopy whose lower data is gone (reads fail with EIO)"* ]]
	run in_union cat "$TARGET/deep"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
}
