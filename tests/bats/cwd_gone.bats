#!/usr/bin/env bats
# Promise (semantics.md "Processes"; overlayfs's cwd is a dentry): getcwd
# names the cwd's dir where it is now, and says ENOENT once that dir is
# gone, as on kernel overlayfs: removed by another process (an upper or a
# lower dir), renamed (the path it was renamed to), removed and made again
# at the same path (ENOENT: the new dir is another one). The shim keeps
# the cwd's union path; before, getcwd answered that path whatever became
# of its dir. tests/probes/cwd_gone_probe.c does each case.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

CASES=("upper:rmdir d" "lower:rmdir d" "upper:mv d e" "lower:mv d e"
	"upper:rmdir d && mkdir d" "lower:rmdir d && mkdir d"
	"lower:mkdir d/sub && rmdir d/sub" "merged:touch d/new")

# each case in a union of its own, MODE shim or overlayfs
cases() {
	local c where cmd
	for c in "${CASES[@]}"; do
		where=${c%%:*} cmd=${c#*:}
		make_layers
		case $where in
		upper) mkdir "$UPPER/d" ;;
		lower) mkdir "$LOWER/d" ;;
		merged) mkdir "$LOWER/d" "$UPPER/d" ;;
		esac
		use_union "$1"
		"${RUN[@]}" "$(probe cwd_gone_probe)" "$U" d "$cmd"
		unmount_union
		MOUNTED=
	done
}

@test "getcwd after the cwd's dir was removed, renamed, or removed and made again by another process: what kernel overlayfs says" {
	need_overlay
	ovl=$(cases overlayfs)
	[ "$(wc -l <<<"$ovl")" -eq ${#CASES[@]} ]
	expect "getcwd of a cwd gone, moved or still there answers as on overlayfs" "$ovl" "$(cases shim)"
	verdict
}
