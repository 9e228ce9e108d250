#!/usr/bin/env bats
# Promise (semantics.md "Tools"; issue 11): `unionctl export` writes what a
# union changed as an OCI image layer that real OCI tools apply: umoci
# unpacks an image made of the lower (a base layer) and the export, and
# the tree it makes equals the union view (names, types, modes, owners,
# contents, symlink targets, mtimes, link groups, user xattrs). Layers
# written by the shim and by kernel overlayfs; nothing private to either
# (user.unionshim.*, trusted.overlay.*, the work dir) in the tarball;
# lower hard links copied up by one name go out by every name, read from
# the shim's link index and from overlayfs's (index=on); the
# same upper gives the same bytes; digests are those of what was written.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/oracle
load ../lib/oci

setup() {
	make_layers
	UNIONCTL=$UNIONSHIM_BUILD/unionctl
	LONG=$(printf 'L%.0s' {1..253}) # its whiteout cannot be .wh.NAME on disk
	OUT=$ROOT/out
	mkdir -p "$OUT"
}

teardown() {
	unmount_union
	[ -z "${BG:-}" ] || kill "$BG" 2>/dev/null || true
}

fill_lower() {
	mkdir -p "$LOWER/dir/sub" "$LOWER/gone/deep" "$LOWER/opq/inner" "$LOWER/kind_d"
	echo keep >"$LOWER/keep"
	echo mod >"$LOWER/mod"
	echo chm >"$LOWER/chm"
	chmod 640 "$LOWER/chm"
	echo gone >"$LOWER/gone_f"
	echo deep >"$LOWER/gone/deep/f"
	echo inner >"$LOWER/opq/inner/x"
	echo o >"$LOWER/opq/o"
	echo sub >"$LOWER/dir/sub/s"
	echo hl >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
	ln "$LOWER/h1" "$LOWER/dir/h3"
	ln -s keep "$LOWER/sym"
	echo k >"$LOWER/kind_d/k"
	echo kf >"$LOWER/kind_f"
	echo long >"$LOWER/$LONG"
	mkfifo "$LOWER/fifo"
	echo odd >"$LOWER/"$'odd name\nwith newline'
	echo odd2 >"$LOWER/"$'gone \xff byte'
	setfattr -n user.low -v lowval "$LOWER/keep"
	setfattr -n user.dirx -v d "$LOWER/dir"
}

# The changes, run in union dir $1; $2=1 also writes a lower hard link
# (through one of its three names).
ops() {
	set -e
	cd "$1"
	echo added >new
	mkdir -p newdir/a
	echo n >newdir/a/f
	echo more >>mod
	chmod 600 chm
	chown 123:456 keep
	setfattr -n user.new -v nv mod
	rm gone_f
	rm -r gone
	rm -r opq
	mkdir opq
	echo fresh >opq/fresh
	rm -r kind_d
	echo nowfile >kind_d
	rm kind_f
	mkdir kind_f
	echo d >kind_f/x
	ln -sfn dir sym
	mv chm chm2
	rm "$3"
	ln new newlink
	mkfifo newfifo
	mknod newdev c 1 7
	echo s2 >dir/sub/s2
	echo more >>$'odd name\nwith newline'
	rm $'gone \xff byte'
	echo new >$'new \xfe\t-name'
	if [ "$2" = 1 ]; then echo changed >>h1; fi
}

run_ops() {
	"${RUN[@]}" bash -c "$(declare -f ops); ops \"\$@\"" _ "$U" "$1" "$LONG"
}

view() {
	"${RUN[@]}" bash -c "$(declare -f tree_manifest); tree_manifest \"\$1\"" _ "$U"
}

# The base layer: the lower as GNU tar writes it (pax, user xattrs).
base_layer() {
	tar --format=posix --numeric-owner --xattrs --xattrs-include='user.*' \
		-C "$LOWER" -cf "$OUT/base.tar" .
}

# unpack LAYER: the image base + LAYER unpacked by umoci; prints its tree.
unpacked() {
	oci_image "$OUT/image" "$OUT/base.tar" "$1"
	oci_unpack "$OUT/image" "$OUT/bundle"
	tree_manifest "$OUT/bundle/rootfs"
}

@test "export of a shim upper, unpacked by umoci over the lower, equals the union view" {
	need_umoci
	fill_lower
	base_layer
	use_union shim
	run_ops 1
	local want
	want=$(view)
	[[ $want == *"h1 h2"* ]] # the hard link group is in the view
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" \
		--lower "$LOWER2" -z -o "$OUT/layer.tar.gz"
	[ "$status" -eq 0 ]
	same "$want" "$(unpacked "$OUT/layer.tar.gz")"
}

@test "export of a kernel overlayfs upper, unpacked by umoci, equals the overlayfs view" {
	need_umoci
	fill_lower
	base_layer
	use_union overlayfs
	run_ops 1
	local want
	want=$(view)
	[[ $want == *"h1 h2"* ]] # index=on: one file, by every name
	run "$UNIONCTL" export --upper "$UPPER" -o "$OUT/mounted.tar"
	[ "$status" -eq 2 ] # not while mounted: its layers change under a reader
	[ ! -e "$OUT/mounted.tar" ]
	unmount_union
	# overlayfs's forms are on disk: char 0/0 whiteouts, an opaque xattr
	[ -c "$UPPER/gone_f" ]
	[ "$(getfattr -h --only-values -n trusted.overlay.opaque "$UPPER/opq")" = y ]
	# its work dir: overlayfs's own index says which lower names are the copy
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" -z -o "$OUT/layer.tar.gz"
	[ "$status" -eq 0 ]
	same "$want" "$(unpacked "$OUT/layer.tar.gz")"
	gzip -dc "$OUT/layer.tar.gz" >"$OUT/plain.tar"
	run ! grep -a -q 'trusted\.overlay' "$OUT/plain.tar"
	tar -tf "$OUT/plain.tar" | grep -qx '\.wh\.gone_f'
	tar -tf "$OUT/plain.tar" | grep -qx 'opq/\.wh\.\.wh\.\.opq'
}

@test "a lower hard link written through one name: every name the union shows is in the layer" {
	need_umoci
	fill_lower
	base_layer
	use_union shim
	"${RUN[@]}" bash -c 'echo changed >>"$1/h2"' _ "$U"
	[ ! -e "$UPPER/h1" ] && [ ! -e "$UPPER/dir/h3" ] # only h2 was copied up
	local want
	want=$(view)
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" -o "$OUT/layer.tar"
	[ "$status" -eq 0 ]
	tar -tvf "$OUT/layer.tar"
	same "$want" "$(unpacked "$OUT/layer.tar")"
	# dir/h3 is given with its dir, which the upper does not have
	tar -tf "$OUT/layer.tar" | grep -qx 'dir/'
}

@test "tar -tvf: OCI whiteouts and markers, tar hard links, nothing private to the shim" {
	fill_lower
	use_union shim
	run_ops 1
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" -o "$OUT/l.tar"
	[ "$status" -eq 0 ]
	# the shim recorded origins and a link index: none of it goes out
	[ -d "$WORK/#index" ]
	getfattr -h -d -m '^user\.unionshim' "$UPPER/mod" | grep -q unionshim
	run tar -tvf "$OUT/l.tar"
	[ "$status" -eq 0 ]
	echo "$output"
	grep -q "^-.* \.wh\.gone_f$" <<<"$output"
	grep -q "^-.* \.wh\.gone$" <<<"$output"
	grep -q "^-.* \.wh\.$LONG$" <<<"$output" # a 257-byte name: pax
	grep -q "^-.* opq/\.wh\.\.wh\.\.opq$" <<<"$output"
	grep -q "^-.* kind_f/\.wh\.\.wh\.\.opq$" <<<"$output"
	grep -q "^h.* newlink link to new$" <<<"$output"
	grep -q "^h.* h1 link to dir/h3$" <<<"$output"
	grep -q "^p.* newfifo$" <<<"$output"
	grep -q "^l.* sym -> dir$" <<<"$output"
	run ! grep -q '#' <<<"$output"
	run ! grep -a -q 'unionshim' "$OUT/l.tar"
	run bsdtar -tvf "$OUT/l.tar"
	[ "$status" -eq 0 ]
	tar --xattrs --xattrs-include='*' -xf "$OUT/l.tar" -C "$OUT" mod 2>/dev/null
	[ "$(getfattr -h --only-values -n user.new "$OUT/mod")" = nv ]
}

@test "the same upper gives the same bytes; digests are of the blob and the uncompressed tar" {
	fill_lower
	use_union shim
	run_ops 1
	local z
	for z in "" -z --zstd; do
		"$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" $z -o "$OUT/a" >"$OUT/a.sum"
		sleep 1.1 # a timestamp in a header would show
		"$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" $z -o - >"$OUT/b" 2>"$OUT/b.sum"
		cmp "$OUT/a" "$OUT/b"
		same "$(cat "$OUT/a.sum")" "$(cat "$OUT/b.sum")"
		grep -qx "digest sha256:$(sha256sum <"$OUT/a" | cut -d' ' -f1)" "$OUT/a.sum"
		grep -qx "size $(stat -c %s "$OUT/a")" "$OUT/a.sum"
		case $z in
		-z) plain=$(gzip -dc "$OUT/a" | sha256sum) ;;
		--zstd) plain=$(zstd -qdc "$OUT/a" | sha256sum) ;;
		*) plain=$(sha256sum <"$OUT/a") ;;
		esac
		grep -qx "diff_id sha256:${plain%% *}" "$OUT/a.sum"
	done
}

@test "bad input: one line, exit 2 for usage, and an existing output is never half replaced" {
	run "$UNIONCTL" export --upper "$UPPER"
	[ "$status" -eq 2 ]
	[[ ${lines[0]} == "unionctl export: -o FILE"* ]]
	run "$UNIONCTL" export --upper "$ROOT/missing" -o "$OUT/x"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == *missing* ]]
	[ ! -e "$OUT/x" ]
	run "$UNIONCTL" export --upper "$UPPER" --lower "$UPPER" -o "$OUT/x"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	run "$UNIONCTL" export --upper "$UPPER" --work "$ROOT/nowork" --lower "$LOWER" -o "$OUT/x"
	[ "$status" -eq 2 ]
	# a layer it cannot express (overlayfs redirect_dir) fails whole
	echo old >"$OUT/x"
	echo f >"$UPPER/f"
	mkdir "$UPPER/moved"
	setfattr -n trusted.overlay.redirect -v /elsewhere "$UPPER/moved"
	run "$UNIONCTL" export --upper "$UPPER" -o "$OUT/x"
	[ "$status" -eq 1 ]
	[[ $output == *redirect* ]]
	[ "$(cat "$OUT/x")" = old ]
	[ -z "$(ls "$OUT" | grep -v '^x$')" ] # no temp left beside it
}

@test "progress on a terminal only; refused while a union process uses the work dir" {
	fill_lower
	use_union shim
	run_ops 1
	# stderr a terminal (script gives a pty): a status line, erased at the end
	script -qec "$UNIONCTL export --upper $UPPER --work $WORK --lower $LOWER -o $OUT/t.tar" \
		/dev/null >"$OUT/tty.log"
	grep -aq $'\runionctl export: [0-9]' "$OUT/tty.log"
	# in a log: nothing but the digests
	"$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" -o "$OUT/l.tar" \
		>"$OUT/out.log" 2>"$OUT/err.log"
	[ ! -s "$OUT/err.log" ]
	[ "$(wc -l <"$OUT/out.log")" -eq 3 ]
	local spec
	spec=$(mounts_spec)
	(LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS=$spec exec sleep 30) &
	BG=$!
	local i
	for i in $(seq 100); do grep -q '#state' "/proc/$BG/maps" 2>/dev/null && break; sleep 0.05; done
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" -o "$OUT/busy.tar"
	kill "$BG"
	wait "$BG" || true
	BG=
	[ "$status" -eq 2 ]
	[[ $output == "unionctl export: the work dir is in use by process "* ]]
	[ ! -e "$OUT/busy.tar" ]
}

@test "export of dirs renamed in place (redirect records), unpacked by umoci, equals the union view" {
	need_umoci
	fill_lower
	base_layer
	use_union shim
	"${RUN[@]}" sh -c 'cd "$1" && mv dir/sub subm && echo s3 >subm/s3 &&
		mv gone/deep dir/deep && mv kind_d kd2 && mv opq/inner opq2' _ "$U"
	[ -n "$(getfattr -h -n user.unionshim.redirect "$UPPER/kd2" 2>/dev/null)" ] # renamed in place
	local want
	want=$(view)
	[[ $want == *"dir/deep/f"* && $want == *"subm/s3"* ]]
	run "$UNIONCTL" export --upper "$UPPER" --work "$WORK" --lower "$LOWER" \
		--lower "$LOWER2" -o "$OUT/layer.tar"
	[ "$status" -eq 0 ]
	same "$want" "$(unpacked "$OUT/layer.tar")"
	! tar -tf "$OUT/layer.tar" | grep -q 'unionshim'
}
