# itest.bash: helpers of the integration tests (readtools, erofs, probes,
# differential), loaded after common.bash (`load ../lib/itest`).
#
#   tool_layers       fill make_layers' dirs with the reference stack below
#   expect_tree DIR   build by hand (cp/echo) the union that stack must show
#   same EXPECTED ACTUAL   compare two texts, print a diff when they differ
#   layer_state       snapshot of every layer, mtimes, ctimes and xattrs
#
# The reference stack: every row differs from what any single layer shows.
#   up_only        upper only                     "upper only"
#   low_only       top lower only                 "lower only"
#   l2_only        bottom lower only              "lower2 only"
#   both           upper and top lower            "upper both" (upper wins)
#   gone_oci       bottom lower, .wh.gone_oci in the top lower (OCI form)
#   gone_ovl       top lower, char dev 0/0 in upper (overlayfs form)
#   gonedir/       bottom lower (a subtree), .wh.gonedir in upper
#   kind/          dir in the top lower over a file of the bottom lower
#   opq/           opaque in upper (.wh..wh..opq) over a top-lower subtree
#   opq2/          opaque in top lower (trusted.overlay.opaque) over lower2
#   dir/           merged from three layers, dir/sub/ from both lowers
#   rel_link       symlink in the top lower -> dir/sub/b1 (a lower2 file)
#   abs_link       symlink in upper -> $TARGET/l2_only
#   emptyd/        an empty dir in the bottom lower

tool_layers() {
	echo "upper only" >"$UPPER/up_only"
	echo "lower only" >"$LOWER/low_only"
	echo "lower2 only" >"$LOWER2/l2_only"
	echo "lower both" >"$LOWER/both"
	echo "upper both" >"$UPPER/both"
	echo "lower2 both" >"$LOWER2/both"

	echo "gone oci" >"$LOWER2/gone_oci"
	: >"$LOWER/.wh.gone_oci"
	echo "gone ovl" >"$LOWER/gone_ovl"
	mknod "$UPPER/gone_ovl" c 0 0
	mkdir -p "$LOWER2/gonedir/deep"
	echo "gone deep" >"$LOWER2/gonedir/deep/f"
	: >"$UPPER/.wh.gonedir"

	echo "lower2 kind file" >"$LOWER2/kind"
	mkdir "$LOWER/kind"
	echo "kind inner" >"$LOWER/kind/inner"

	mkdir -p "$LOWER/opq/sub" "$UPPER/opq"
	echo "old one" >"$LOWER/opq/old1"
	echo "old two" >"$LOWER/opq/sub/old2"
	echo "opq new" >"$UPPER/opq/new"
	: >"$UPPER/opq/.wh..wh..opq"
	mkdir -p "$LOWER2/opq2" "$LOWER/opq2"
	echo "old l2" >"$LOWER2/opq2/old"
	echo "opq2 new" >"$LOWER/opq2/new"
	setfattr -n trusted.overlay.opaque -v y "$LOWER/opq2"

	mkdir -p "$LOWER/dir/sub" "$LOWER2/dir/sub" "$UPPER/dir"
	echo "dir a" >"$LOWER/dir/a"
	echo "dir b" >"$LOWER2/dir/b"
	echo "dir c" >"$UPPER/dir/c"
	echo "sub a1" >"$LOWER/dir/sub/a1"
	echo "sub b1" >"$LOWER2/dir/sub/b1"
	echo "lower2 a hidden" >"$LOWER2/dir/a"

	ln -s dir/sub/b1 "$LOWER/rel_link"
	ln -s "$TARGET/l2_only" "$UPPER/abs_link"
	mkdir "$LOWER2/emptyd"
}

# The union of tool_layers, built by hand in DIR.
expect_tree() {
	local d=$1
	mkdir -p "$d/dir/sub" "$d/kind" "$d/opq" "$d/opq2" "$d/emptyd"
	cp "$UPPER/up_only" "$UPPER/both" "$LOWER/low_only" "$LOWER2/l2_only" "$d/"
	cp "$UPPER/dir/c" "$LOWER/dir/a" "$LOWER2/dir/b" "$d/dir/"
	cp "$LOWER/dir/sub/a1" "$LOWER2/dir/sub/b1" "$d/dir/sub/"
	cp "$LOWER/kind/inner" "$d/kind/"
	cp "$UPPER/opq/new" "$d/opq/"
	cp "$LOWER/opq2/new" "$d/opq2/"
	ln -s dir/sub/b1 "$d/rel_link"
	ln -s "$TARGET/l2_only" "$d/abs_link"
}

# The names of that union, as `find .` prints them (sorted).
expect_find() {
	printf '%s\n' . ./abs_link ./both ./dir ./dir/a ./dir/b ./dir/c \
		./dir/sub ./dir/sub/a1 ./dir/sub/b1 ./emptyd ./kind ./kind/inner \
		./l2_only ./low_only ./opq ./opq/new ./opq2 ./opq2/new ./rel_link \
		./up_only
}

same() {
	if [ "$1" != "$2" ]; then
		echo "--- expected / +++ got:"
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") || true
		return 1
	fi
}

# Everything about the layer dirs that a write could change: the common
# snapshot (names, types, modes, sizes, link texts, sums), plus mtimes,
# ctimes, owners and xattrs.
layer_state() {
	local d
	for d in "$LOWER" "$LOWER2" "$UPPER"; do
		echo "== $d"
		snapshot "$d"
		(cd "$d" && find . -printf '%p %T@ %C@ %U:%G %n\n' | LC_ALL=C sort)
		(cd "$d" && getfattr -R -h -d -m - . 2>/dev/null)
	done
}
