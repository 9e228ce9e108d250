#!/usr/bin/env bats
# Promise (semantics.md "Lookup", "Where this page is silent, do what kernel
# overlayfs does"): over the same layers, the shim shows at its target what
# kernel overlayfs shows at its mount point: the same names, types, sizes,
# link texts and file contents; and a stack written in the OCI form
# (.wh. files) shows the same union as the overlayfs form (char devs and
# trusted.overlay.opaque). Stacks come from tests/lib/gen_layers.py (three
# lowers and an upper, >= 1000 entries, whiteouts and opaque dirs at many
# depths). Dir sizes are left out: the two forms differ in entries on disk.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

SEEDS=(11 22 33)

# The overlayfs form needs mknod and trusted.* xattrs (root); without
# them every test here skips.
setup_file() {
	local s
	for s in "${SEEDS[@]}"; do
		python3 "$BATS_TEST_DIRNAME/../lib/gen_layers.py" --seed "$s" \
			--out "$BATS_FILE_TMPDIR/s$s" 2>/dev/null ||
			touch "$BATS_FILE_TMPDIR/no-stacks"
	done
}

setup() {
	[ ! -e "$BATS_FILE_TMPDIR/no-stacks" ] ||
		skip "gen_layers.py could not write the overlayfs form (needs root)"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
}

CP_MOUNTS=()

teardown() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
	local m
	for m in "${CP_MOUNTS[@]}"; do
		! mountpoint -q "$m" || umount -R "$m" || umount -l "$m"
	done
}

# Print the listing of the tree at the cwd (find's view plus checksums).
LISTING='find . \( -type d -printf "%p %y -\n" \) -o -printf "%p %y %s %l\n" | LC_ALL=C sort &&
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum'

# Every dir's entries in the order readdir gives them (ls -f), dirs taken
# in sorted order: overlayfs lists the lowest layer's entries first.
ORDER='find . -type d -print0 | LC_ALL=C sort -z | xargs -0 -n 1 sh -c "echo \"== \$0\"; ls -f \"\$0\""'

# lowerdir= value of generated stack DIR (absolute paths, top first)
lowers_of() {
	sed "s#\([^:]*\)#$1/\1#g" "$1/lowerdirs"
}

# The union of stack DIR (one form) under the shim, at an empty target.
shim_listing() {
	local dir=$1 t w
	t=$(mktemp -d "$BATS_TEST_TMPDIR/target.XXXXXX")
	w=$(mktemp -d "$dir/../work.XXXXXX")
	LD_PRELOAD=$SHIM_LIB \
		UNIONSHIM_MOUNTS="target=$t,lowerdir=$(lowers_of "$dir"),upperdir=$dir/upper,workdir=$w" \
		bash -c "cd '$t' && ${2:-$LISTING}"
}

kernel_listing() {
	local dir=$1
	mkdir -p "$BATS_TEST_TMPDIR/kwork"
	mount -t overlay overlay -o "lowerdir=$(lowers_of "$dir"),upperdir=$dir/upper,workdir=$BATS_TEST_TMPDIR/kwork" "$MNT"
	(cd "$MNT" && bash -c "${2:-$LISTING}")
	umount "$MNT"
}

check_kernel() {
	local s=$1 kern shim_ovl shim_oci
	need_overlay
	kern=$(kernel_listing "$BATS_FILE_TMPDIR/s$s/overlay")
	[ "$(wc -l <<<"$kern")" -gt 500 ]
	shim_ovl=$(shim_listing "$BATS_FILE_TMPDIR/s$s/overlay")
	same "$kern" "$shim_ovl"
	shim_oci=$(shim_listing "$BATS_FILE_TMPDIR/s$s/oci")
	same "$kern" "$shim_oci"
	# the order of every dir's entries, too
	kern=$(kernel_listing "$BATS_FILE_TMPDIR/s$s/overlay" "$ORDER")
	[ "$(grep -c '^== ' <<<"$kern")" -gt 50 ]
	shim_ovl=$(shim_listing "$BATS_FILE_TMPDIR/s$s/overlay" "$ORDER")
	same "$kern" "$shim_ovl"
}

check_forms() {
	local s=$1 ovl oci
	ovl=$(shim_listing "$BATS_FILE_TMPDIR/s$s/overlay")
	oci=$(shim_listing "$BATS_FILE_TMPDIR/s$s/oci")
	[ "$(wc -l <<<"$ovl")" -gt 500 ]
	same "$ovl" "$oci"
}

# The cases the generator promises, found in an OCI-form stack.
FEATURES='
import os, sys
root = sys.argv[1]
names = ["upper"] + open(os.path.join(root, "lowerdirs")).read().strip().split(":")
def entries(l):
    out = {}
    base = os.path.join(root, l)
    for d, ds, fs in os.walk(base):
        rel = os.path.relpath(d, base)
        for n in ds + fs:
            p = os.path.normpath(os.path.join(rel, n))
            out[p] = "d" if n in ds else "f"
    return out
E = [entries(l) for l in names]  # top first
opq_over_subtree = whiteout_then_recreated = file_vs_dir = 0
for k, e in enumerate(E):
    for p, t in e.items():
        d, n = os.path.split(p)
        if n == ".wh..wh..opq" and k == 0:
            if any(q.startswith(d + "/") and t2 == "d" and q.count("/") > d.count("/")
                   for low in E[1:] for q, t2 in low.items()):
                opq_over_subtree += 1
        elif n.startswith(".wh.") and n != ".wh..wh..opq":
            name = os.path.join(d, n[4:])
            if any(name in hi for hi in E[:k]):
                whiteout_then_recreated += 1
        elif t == "f" and any(low.get(p) == "d" for low in E) :
            file_vs_dir += 1
print(opq_over_subtree, whiteout_then_recreated, file_vs_dir)
sys.exit(0 if min(opq_over_subtree, whiteout_then_recreated, file_vs_dir) > 0 else 1)
'

@test "generated stacks: >= 1000 entries, both whiteout and opaque forms in every upper layer" {
	local s d n
	for s in "${SEEDS[@]}"; do
		d=$BATS_FILE_TMPDIR/s$s
		n=$(cd "$d/overlay" && find upper l1 l2 l3 -mindepth 1 | wc -l)
		[ "$n" -ge 1000 ]
		for l in upper l1 l2; do
			[ "$(find "$d/overlay/$l" -type c | wc -l)" -ge 3 ]
			[ "$(getfattr -R --absolute-names -m trusted.overlay.opaque "$d/overlay/$l" 2>/dev/null | grep -c '^trusted.overlay.opaque')" -ge 2 ]
			[ "$(find "$d/oci/$l" -name '.wh.*' ! -name '.wh..wh..opq' | wc -l)" -ge 3 ]
			[ "$(find "$d/oci/$l" -name '.wh..wh..opq' | wc -l)" -ge 2 ]
			# whiteouts below the layer root, not only at the top
			[ "$(find "$d/oci/$l" -mindepth 3 -name '.wh.*' | wc -l)" -ge 1 ]
		done
		run python3 -c "$FEATURES" "$d/oci"
		[ "$status" -eq 0 ] || { echo "seed $s: $output"; false; }
	done
	# the same seed gives the same stack
	python3 "$BATS_TEST_DIRNAME/../lib/gen_layers.py" --seed 11 \
		--form oci --out "$BATS_TEST_TMPDIR/again" 2>/dev/null
	same "$(snapshot "$BATS_FILE_TMPDIR/s11/oci")" "$(snapshot "$BATS_TEST_TMPDIR/again")"
}

@test "seed 11: shim == kernel overlayfs (overlay and OCI forms)" {
	check_kernel 11
}

@test "seed 22: shim == kernel overlayfs (overlay and OCI forms)" {
	check_kernel 22
}

@test "seed 33: shim == kernel overlayfs (overlay and OCI forms)" {
	check_kernel 33
}

@test "seed 11: OCI form == overlay form under the shim" {
	check_forms 11
}

@test "seed 22: OCI form == overlay form under the shim" {
	check_forms 22
}

@test "seed 33: OCI form == overlay form under the shim" {
	check_forms 33
}

# cp -a d d (a dir copied into itself) copies the entries readdir gives
# before it meets the new d/d: what it copies depends on the listing
# order, which is overlayfs's (the lowest layer's entries first), and on
# the d_ino order (GNU cp sorts a dir's entries by inode number). Each
# side gets a fresh tmpfs, so the inode numbers the layers' files and the
# new d/d get are the same on both sides: on ext4 where the allocator
# puts a new dir's inode depends on the disk, and the two sides differed
# by chance (1 run in 4).
fill_cp_layers() {
	local root=$1 i
	mkdir -p "$root"
	mount -t tmpfs tmpfs "$root"
	CP_MOUNTS+=("$root")
	mkdir -p "$root/lower/d" "$root/lower2/d" "$root/upper/d" "$root/work" "$root/target"
	for i in $(seq 1 40); do echo "l$i" >"$root/lower2/d/f$i"; done
	for i in 3 17 41 42; do echo "m$i" >"$root/lower/d/f$i"; done
	for i in 5 43 44; do echo "u$i" >"$root/upper/d/f$i"; done
}

CP_INTO_ITSELF='cp -a d d 2>&1 | sed "s/[^ ]*target/T/g"; echo "status ${PIPESTATUS[0]}"; find d | LC_ALL=C sort'

@test "cp -a d d copies what overlayfs's listing order gives it" {
	need_overlay
	local r=$BATS_TEST_TMPDIR kern shim
	CP_MOUNTS=()
	fill_cp_layers "$r/k"
	mount -t overlay overlay -o "lowerdir=$r/k/lower:$r/k/lower2,upperdir=$r/k/upper,workdir=$r/k/work" "$r/k/target"
	kern=$(cd "$r/k/target" && bash -c "$CP_INTO_ITSELF")
	umount "$r/k/target"
	fill_cp_layers "$r/s"
	shim=$(cd "$r/s/target" && LD_PRELOAD=$SHIM_LIB \
		UNIONSHIM_MOUNTS="target=$r/s/target,lowerdir=$r/s/lower:$r/s/lower2,upperdir=$r/s/upper,workdir=$r/s/work" \
		bash -c "$CP_INTO_ITSELF")
	umount "${CP_MOUNTS[@]}" && CP_MOUNTS=()
	[ "$(grep -c '^d/d/' <<<"$kern")" -gt 0 ]
	same "$kern" "$shim"
}
