#!/usr/bin/env bats
# dirwalk.bats: the libc directory walkers (scandir, scandirat, glob, ftw,
# nftw, fts) see the union, not the bare target dir.
#
# glibc implements these with internal calls no preload library sees, so
# without the shim's own versions each probe below would list an empty
# dir. The stack is built so that the union view differs from every
# single layer; where kernel overlayfs mounts, the same probe run on an
# overlay of the same layers must print the same thing.

load ../lib/common

# The layer stack in STYLE oci (.wh. files, as the shim writes) or ovl
# (0/0 char devices and the opaque xattr, the only form overlayfs reads).
#   upper:  up_only, both (file), opq/ (opaque) new, merged/from_up,
#           whiteouts for gone and merged/m_gone
#   lower:  low_only, both/inner (a dir, hidden by upper's file), gone,
#           opq/old1, merged/from_low, merged/m_gone, link -> up_only,
#           dangling -> nowhere
#   lower2: low2_only, opq/old2, merged/from_low2, merged/sub/deep
# With DLINK set, lower2 also holds dlink -> merged.
populate() {
	local style=$1 up=$2 lo=$3 lo2=$4 dlink=${5:-}
	mkdir -p "$up/opq" "$up/merged" "$lo/both" "$lo/opq" "$lo/merged" \
		"$lo2/merged/sub" "$lo2/opq"
	echo up >"$up/up_only"
	echo upper >"$up/both"
	echo new >"$up/opq/new"
	echo from_up >"$up/merged/from_up"
	echo low >"$lo/low_only"
	echo inner >"$lo/both/inner"
	echo gone >"$lo/gone"
	echo old1 >"$lo/opq/old1"
	echo from_low >"$lo/merged/from_low"
	echo m_gone >"$lo/merged/m_gone"
	ln -s up_only "$lo/link"
	ln -s nowhere "$lo/dangling"
	echo low2 >"$lo2/low2_only"
	echo old2 >"$lo2/opq/old2"
	echo from_low2 >"$lo2/merged/from_low2"
	echo deep >"$lo2/merged/sub/deep"
	[ -z "$dlink" ] || ln -s merged "$lo2/dlink"
	if [ "$style" = oci ]; then
		: >"$up/.wh.gone"
		: >"$up/merged/.wh.m_gone"
		: >"$up/opq/.wh..wh..opq"
	else
		mknod "$up/gone" c 0 0
		mknod "$up/merged/m_gone" c 0 0
		setfattr -n trusted.overlay.opaque -v y "$up/opq"
	fi
}

setup() {
	make_layers
	OVL=
}

teardown() {
	if [ -n "$OVL" ]; then
		umount "$OVL" 2>/dev/null || true
	fi
}

stack() {
	populate oci "$UPPER" "$LOWER" "$LOWER2" "${1:-}"
}

# Mount the overlayfs form of the stack at $OVL, a dir also named
# "target" so that walkers print the same base names.
overlay_stack() {
	need_overlay
	local o=$ROOT/ovl
	mkdir -p "$o/upper" "$o/lower" "$o/lower2" "$o/work" "$o/target"
	populate ovl "$o/upper" "$o/lower" "$o/lower2" "${1:-}"
	mount -t overlay overlay \
		-o "lowerdir=$o/lower:$o/lower2,upperdir=$o/upper,workdir=$o/work" \
		"$o/target"
	OVL=$o/target
}

# Compare $output with the expected lines on stdin; "sorted" first sorts
# both (a walk without compar goes in readdir order, which differs
# between filesystems).
same() {
	local want got
	want=$(cat)
	got=$output
	if [ "${1:-}" = sorted ]; then
		want=$(printf '%s\n' "$want" | LC_ALL=C sort)
		got=$(printf '%s\n' "$got" | LC_ALL=C sort)
	fi
	diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got")
}

# nftw lines are "TYPE LEVEL PATH NAME": every entry's dir line comes
# before it (pre) or after it (post).
walk_order() {
	printf '%s\n' "$output" | awk -v mode="$1" '
		$1 == "D" || $1 == "DP" { dir[$3] = NR }
		{ path[NR] = $3 }
		END {
			for (i = 1; i <= NR; i++) {
				p = path[i]
				if (p !~ /\//) continue
				d = p; sub(/\/[^\/]*$/, "", d)
				if (!(d in dir)) { print "no dir line for " p; bad = 1 }
				else if (mode == "pre" && dir[d] > i) { print p " before its dir"; bad = 1 }
				else if (mode == "post" && dir[d] < i) { print p " after its dir"; bad = 1 }
			}
			exit bad
		}'
}

NFTW_PHYS='D 0 ROOT target
D 1 ROOT/opq opq
F 2 ROOT/opq/new new
F 1 ROOT/up_only up_only
F 1 ROOT/both both
F 1 ROOT/low_only low_only
F 1 ROOT/low2_only low2_only
D 1 ROOT/merged merged
F 2 ROOT/merged/from_up from_up
F 2 ROOT/merged/from_low from_low
F 2 ROOT/merged/from_low2 from_low2
D 2 ROOT/merged/sub sub
F 3 ROOT/merged/sub/deep deep
SL 1 ROOT/link link
SL 1 ROOT/dangling dangling
ret=0'

FTS_PHYS='D 0 ROOT target
F 1 ROOT/both both
SL 1 ROOT/dangling dangling
SL 1 ROOT/link link
F 1 ROOT/low2_only low2_only
F 1 ROOT/low_only low_only
D 1 ROOT/merged merged
F 2 ROOT/merged/from_low from_low
F 2 ROOT/merged/from_low2 from_low2
F 2 ROOT/merged/from_up from_up
D 2 ROOT/merged/sub sub
F 3 ROOT/merged/sub/deep deep
DP 2 ROOT/merged/sub sub
DP 1 ROOT/merged merged
D 1 ROOT/opq opq
F 2 ROOT/opq/new new
DP 1 ROOT/opq opq
F 1 ROOT/up_only up_only
DP 0 ROOT target
end errno=0'

@test "scandir lists the merged union dir" {
	stack
	run in_union "$(probe scandir_probe)" scandir "$TARGET"
	[ "$status" -eq 0 ]
	same <<'EOF'
both f
dangling l
link l
low2_only f
low_only f
merged d
opq d
up_only f
EOF
}

@test "scandirat through a dirfd lists merged and opaque subdirs" {
	stack
	run in_union "$(probe scandir_probe)" scandirat "$TARGET" merged
	[ "$status" -eq 0 ]
	same <<'EOF'
from_low f
from_low2 f
from_up f
sub d
EOF
	run in_union "$(probe scandir_probe)" scandirat "$TARGET" opq
	same <<<'new f'
}

@test "scandir fails like the union: whiteout ENOENT, lower file ENOTDIR" {
	stack
	run in_union "$(probe scandir_probe)" scandir "$TARGET/gone"
	[ "$status" -eq 1 ]
	same <<<'-1 ENOENT'
	run in_union "$(probe scandir_probe)" scandir "$TARGET/low_only"
	[ "$status" -eq 1 ]
	same <<<'-1 ENOTDIR'
	run in_union "$(probe scandir_probe)" scandirat "$TARGET" low_only
	[ "$status" -eq 1 ]
	same <<<'-1 ENOTDIR'
}

@test "glob matches across merged subdirs" {
	stack
	run in_union "$(probe glob_probe)" "$TARGET" "$TARGET/*/*"
	[ "$status" -eq 0 ]
	same <<'EOF'
ROOT/merged/from_low
ROOT/merged/from_low2
ROOT/merged/from_up
ROOT/merged/sub/
ROOT/opq/new
EOF
	run in_union "$(probe glob_probe)" "$TARGET" "$TARGET/[bdl]*"
	same <<'EOF'
ROOT/both
ROOT/dangling
ROOT/link
ROOT/low2_only
ROOT/low_only
EOF
	run in_union "$(probe glob_probe)" "$TARGET" "$TARGET/opq/old*"
	same <<<'rc=NOMATCH'
}

@test "nftw FTW_PHYS walks the union in pre-order" {
	stack
	run in_union "$(probe nftw_probe)" phys "$TARGET"
	[ "$status" -eq 0 ]
	same sorted <<<"$NFTW_PHYS"
	walk_order pre
}

@test "nftw FTW_DEPTH reports dirs after their entries" {
	stack
	run in_union "$(probe nftw_probe)" depth "$TARGET"
	[ "$status" -eq 0 ]
	same sorted <<<"${NFTW_PHYS//D /DP }"
	walk_order post
}

@test "ftw follows symlinks in the union (dangling: FTW_NS)" {
	stack
	run in_union "$(probe nftw_probe)" ftw "$TARGET"
	[ "$status" -eq 0 ]
	same sorted <<'EOF'
D ROOT
D ROOT/opq
F ROOT/opq/new
F ROOT/up_only
F ROOT/both
F ROOT/low_only
F ROOT/low2_only
D ROOT/merged
F ROOT/merged/from_up
F ROOT/merged/from_low
F ROOT/merged/from_low2
D ROOT/merged/sub
F ROOT/merged/sub/deep
F ROOT/link
NS ROOT/dangling
ret=0
EOF
}

@test "nftw without FTW_PHYS: link resolves in the union, dangling is FTW_SLN" {
	stack
	run in_union "$(probe nftw_probe)" logical "$TARGET"
	[ "$status" -eq 0 ]
	want=${NFTW_PHYS/SL 1 ROOT\/link/F 1 ROOT\/link}
	same sorted <<<"${want/SL 1 ROOT\/dangling/SLN 1 ROOT\/dangling}"
}

@test "nftw FTW_CHDIR visits each entry from its dir and restores the cwd" {
	stack
	run in_union "$(probe nftw_probe)" chdir "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" != *cwd=bad* ]]
	[[ "$output" == *"cwd after: same"* ]]
	output=$(printf '%s\n' "$output" | sed 's/ cwd=ok$//' | grep -v '^cwd after')
	same sorted <<<"$NFTW_PHYS"
}

@test "nftw FTW_ACTIONRETVAL: FTW_SKIP_SUBTREE and FTW_STOP" {
	stack
	run in_union "$(probe nftw_probe)" skip "$TARGET"
	[ "$status" -eq 0 ]
	same sorted <<<"$(printf '%s\n' "$NFTW_PHYS" | grep -v 'opq/new')"
	run in_union "$(probe nftw_probe)" stop "$TARGET"
	[[ "$output" == *"F 1 ROOT/low_only low_only"$'\n'"ret=1" ]]
}

@test "fts FTS_PHYSICAL|FTS_NOCHDIR walks the union" {
	stack
	run in_union "$(probe fts_probe)" phys "$TARGET"
	[ "$status" -eq 0 ]
	same <<<"$FTS_PHYS"
}

@test "fts FTS_LOGICAL follows symlinks inside the union" {
	stack dlink
	run in_union "$(probe fts_probe)" logical "$TARGET"
	[ "$status" -eq 0 ]
	same <<'EOF'
D 0 ROOT target
F 1 ROOT/both both
SLNONE 1 ROOT/dangling dangling
D 1 ROOT/dlink dlink
F 2 ROOT/dlink/from_low from_low
F 2 ROOT/dlink/from_low2 from_low2
F 2 ROOT/dlink/from_up from_up
D 2 ROOT/dlink/sub sub
F 3 ROOT/dlink/sub/deep deep
DP 2 ROOT/dlink/sub sub
DP 1 ROOT/dlink dlink
F 1 ROOT/link link
F 1 ROOT/low2_only low2_only
F 1 ROOT/low_only low_only
D 1 ROOT/merged merged
F 2 ROOT/merged/from_low from_low
F 2 ROOT/merged/from_low2 from_low2
F 2 ROOT/merged/from_up from_up
D 2 ROOT/merged/sub sub
F 3 ROOT/merged/sub/deep deep
DP 2 ROOT/merged/sub sub
DP 1 ROOT/merged merged
D 1 ROOT/opq opq
F 2 ROOT/opq/new new
DP 1 ROOT/opq opq
F 1 ROOT/up_only up_only
DP 0 ROOT target
end errno=0
EOF
}

@test "fts_children and fts_set(FTS_SKIP) see the union" {
	stack
	run in_union "$(probe fts_probe)" children "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"D 1 ROOT/merged merged"$'\n'"  child F from_low"$'\n'"  child F from_low2"$'\n'"  child F from_up"$'\n'"  child D sub"$'\n'* ]]
	[[ "$output" == *"D 1 ROOT/opq opq"$'\n'"  child F new"$'\n'"F 2"* ]]
	run in_union "$(probe fts_probe)" skip "$TARGET"
	same <<<"$(printf '%s\n' "$FTS_PHYS" | grep -v 'ROOT/merged/')"
}

@test "outside any union the walkers print what glibc's print" {
	stack dlink
	cp -a "$LOWER/." "$ROOT/plain"
	ln -s . "$ROOT/plain/merged/cycle"
	local p=$ROOT/plain m
	for m in phys depth logical ftw chdir skip stop; do
		diff <("$(probe nftw_probe)" $m "$p") \
			<(in_union "$(probe nftw_probe)" $m "$p")
	done
	for m in phys logical seedot nostat children skip; do
		diff <("$(probe fts_probe)" $m "$p") \
			<(in_union "$(probe fts_probe)" $m "$p")
	done
	diff <("$(probe scandir_probe)" scandir "$p/merged") \
		<(in_union "$(probe scandir_probe)" scandir "$p/merged")
	diff <("$(probe glob_probe)" "$p" "$p/*/*") \
		<(in_union "$(probe glob_probe)" "$p" "$p/*/*")
}

# The same probes on kernel overlayfs and in the union: the same lines.
# (No dlink for nftw: a logical walk skips whichever of dlink and merged
# it meets second, and readdir order differs between the two.)
@test "kernel overlayfs shows scandir, glob and nftw the same view" {
	stack
	overlay_stack
	local m
	for m in phys depth logical ftw skip; do
		diff -u <("$(probe nftw_probe)" $m "$OVL" | LC_ALL=C sort) \
			<(in_union "$(probe nftw_probe)" $m "$TARGET" | LC_ALL=C sort)
	done
	diff -u <("$(probe scandir_probe)" scandir "$OVL") \
		<(in_union "$(probe scandir_probe)" scandir "$TARGET")
	diff -u <("$(probe scandir_probe)" scandirat "$OVL" merged) \
		<(in_union "$(probe scandir_probe)" scandirat "$TARGET" merged)
	diff -u <("$(probe glob_probe)" "$OVL" "$OVL/*/*") \
		<(in_union "$(probe glob_probe)" "$TARGET" "$TARGET/*/*")
}

@test "kernel overlayfs shows fts the same view" {
	stack dlink
	overlay_stack dlink
	local m
	for m in phys logical children skip seedot; do
		diff -u <("$(probe fts_probe)" $m "$OVL") \
			<(in_union "$(probe fts_probe)" $m "$TARGET")
	done
}
