#!/usr/bin/env bats
# Promise (semantics: errors as the kernel gives them): a call that makes,
# removes or renames a name written with trailing slashes ("name/") looks
# the name up in its dir and never follows it, as the kernel does: open
# with O_CREAT says EISDIR whether the name is there or not, and makes
# nothing (not the name, not a dangling symlink's target); mkdir makes
# the dir; mknod, symlink and link's new name say EEXIST, or ENOENT when
# it is free; unlink refuses by the name's kind; rmdir of a symlink to an
# empty dir is ENOTDIR and removes nothing; rename's slashed names must
# be dirs, and a name above the other's dir is EINVAL or ENOTEMPTY first;
# O_CREAT with O_DIRECTORY is EINVAL where the kernel says so. The probe
# runs on the same layers under the shim and on kernel overlayfs: every
# answer and the union's tree after must agree.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

# dirs of the lower are renamed (overlayfs says EXDEV without redirects)
OVL_OPTS=redirect_dir=on,index=on,xino=on

fill() {
	local n i c
	n=$("$(probe slashes_probe)" -n)
	for ((i = 0; i < n; i++)); do
		c=$LOWER/c$i
		mkdir -p "$c/d" "$c/e"
		echo f >"$c/f"
		echo x >"$c/d/x"
		ln -s f "$c/sf"
		ln -s d "$c/sd"
		ln -s e "$c/se"
		ln -s nothere "$c/sx"
	done
}

teardown() {
	unmount_union
}

tree() {
	(cd "$1" && find . -printf '%p %y\n' | LC_ALL=C sort)
}

@test "slashes: names written name/ are made, removed and renamed as on overlayfs" {
	make_layers
	fill
	use_union shim
	run --separate-stderr "${RUN[@]}" "$(probe slashes_probe)" "$U"
	[ "$status" -eq 0 ]
	local shim=$output after_shim lower_shim
	after_shim=$(in_union sh -c "cd '$U' && find . -printf '%p %y\n' | LC_ALL=C sort")
	lower_shim=$(tree "$LOWER")
	make_layers
	fill
	use_union overlayfs
	run --separate-stderr "${RUN[@]}" "$(probe slashes_probe)" "$U"
	[ "$status" -eq 0 ]
	BROKEN=()
	expect "every call answers as on overlayfs" "$output" "$shim"
	expect "the union's tree after is overlayfs's" "$(tree "$U")" "$after_shim"
	expect "the lower is untouched" "$(tree "$LOWER")" "$lower_shim"
	verdict
}
