#!/usr/bin/env bats
# A union dir that one layer alone makes (a lower dir the upper does not
# hold, an upper dir no lower holds) lists what that layer's dir lists,
# less its whiteouts and reserved names, with the union's inode numbers:
# the same names and numbers as the merged listing (getdents64), read
# through the program's own DIR (the dir is opened once, not again by the
# shim), with telldir, seekdir, rewinddir and readdir_r working.

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/solo/sub" "$UPPER/usolo" "$LOWER/both" "$UPPER/both"
	echo a >"$LOWER/solo/a"
	echo b >"$LOWER/solo/b"
	: >"$LOWER/solo/.wh.gone"       # an OCI whiteout (hides nothing here)
	: >"$LOWER/solo/.wh..wh..opq"   # an OCI opaque marker
	mknod "$LOWER/solo/wh" c 0 0    # an overlayfs whiteout
	mknod "$LOWER/solo/null" c 1 3  # a real char device: listed
	echo x >"$UPPER/usolo/x"
	: >"$UPPER/usolo/.wh.y"
	echo m >"$LOWER/both/m"
	echo n >"$UPPER/both/n"
}

# names DIR: the names a readdir of union dir DIR returns, sorted
names() {
	in_union "$(probe dirpass_probe)" "$TARGET/$1" | awk 'NF == 2 && $1 != "seek" && $1 != "again" { print $1 }' | LC_ALL=C sort
}

# merged DIR: the names getdents64 (the merged listing) returns, sorted
merged() {
	in_union "$(probe getdents_probe)" syscall "$TARGET/$1" | grep -v '^again ' | LC_ALL=C sort
}

listing_is_the_layers() {
	local dir=$1 want=$2
	run in_union "$(probe dirpass_probe)" "$TARGET/$dir"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(names "$dir" | tr '\n' ' ')" = "$want" ]
	[ "$(names "$dir")" = "$(merged "$dir")" ]
	# each entry's d_ino is its st_ino (. and .. aside: their d_ino is the
	# layer's own, in merged listings too)
	local name ino
	while read -r name ino; do
		case $name in seek | again | . | ..) continue ;; esac
		[ "$ino" = "$(in_union stat -c %i "$TARGET/$dir/$name")" ] ||
			{ echo "$name: d_ino $ino, st_ino $(in_union stat -c %i "$TARGET/$dir/$name")"; return 1; }
	done <<<"$output"
	# seekdir to the position telldir gave after the second entry reads
	# the third again; a rewinddir then reads every entry
	third=$(sed -n 3p <<<"$output" | awk '{ print $1 }')
	[ "$(grep '^seek ' <<<"$output")" = "seek $third" ]
	[ "$(grep '^again ' <<<"$output")" = "again $(names "$dir" | wc -l)" ]
}

@test "a lower dir the upper does not hold: the layer's own listing, less whiteouts and reserved names, d_ino as st_ino, telldir/seekdir/rewinddir/readdir_r" {
	listing_is_the_layers solo ". .. a b null sub "
}

@test "an upper dir no lower holds: the same" {
	listing_is_the_layers usolo ". .. x "
}

@test "a merged dir is still merged" {
	listing_is_the_layers both ". .. m n "
}

@test "a lower on a filesystem of its own: a lower-only dir's d_ino is the union's (layer-tagged) st_ino" {
	mkdir -p "$ROOT/fs2"
	mount -t tmpfs -o size=8m tmpfs "$ROOT/fs2" 2>/dev/null || skip "cannot mount a tmpfs here"
	LOWER2=$ROOT/fs2
	mkdir -p "$LOWER2/tsolo"
	echo t >"$LOWER2/tsolo/t"
	listed=$(in_union "$(probe dirpass_probe)" "$TARGET/tsolo" | awk '$1 == "t" { print $2 }')
	stated=$(in_union stat -c %i "$TARGET/tsolo/t")
	real=$(stat -c %i "$LOWER2/tsolo/t")
	umount "$ROOT/fs2" 2>/dev/null || umount -l "$ROOT/fs2"
	echo "t: d_ino $listed, st_ino $stated (the layer's own $real)"
	[ "$stated" != "$real" ] # tagged with its layer
	[ "$listed" = "$stated" ]
}

@test "a copy renamed into an upper-only dir between its opendir and its readdir is listed with its origin's number" {
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
	before=$(in_union stat -c %i "$TARGET/d/f")
	run in_union "$(probe dirpass_probe)" "$TARGET/usolo" \
		"chmod 600 '$TARGET/d/f' && mv '$TARGET/d/f' '$TARGET/usolo/f'"
	echo "$output"
	[ "$status" -eq 0 ]
	listed=$(awk '$1 == "f" { print $2 }' <<<"$output")
	echo "f: d_ino $listed, st_ino before the copy $before"
	[ "$listed" = "$before" ]
	[ "$(in_union stat -c %i "$TARGET/usolo/f")" = "$before" ]
}

@test "a dir one layer makes is opened once by a listing (the shim reads the program's own DIR)" {
	command -v strace >/dev/null || skip "no strace"
	in_union strace -f -qq -e trace=openat,open -o "$ROOT/trace" ls -a "$TARGET/solo" >/dev/null
	n=$(grep -c "\"$LOWER/solo\"" "$ROOT/trace" || true)
	echo "opens of the layer's dir: $n"
	cat "$ROOT/trace" | grep solo
	[ "$n" -eq 1 ]
}
