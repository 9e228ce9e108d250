#!/usr/bin/env bats
# Promise (semantics: permissions as natively): a process that switched to
# another uid (root dropping to nobody, as test suites and package builds
# do) works in the union wherever the union's own permissions let it, as
# on overlayfs: it creates, renames and removes in a dir it may write,
# rmdir of an empty dir it made included (removed in place, not through
# the root-owned work dir). The work dir's #state is made writable for
# every uid that can reach it; one that cannot open it still runs (it
# learns of no other process's changes: README "Known limits").

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
	make_layers
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
	chmod 755 "$ROOT" "$LOWER" "$UPPER" "$WORK" "$TARGET"
	# nobody must reach the layers: bats makes its dirs private
	local d=$ROOT
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

teardown() {
	unmount_union
}

as_nobody() {
	"${RUN[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

scenario() {
	"${RUN[@]}" sh -c 'mkdir "$1/pub" && chmod 777 "$1/pub"' sh "$U"
	as_nobody sh -c '
		cd "$1/pub" || exit 1
		mkdir x && echo "mkdir: ok"
		mkdir x/y && rmdir x/y && echo "rmdir nested: ok"
		rmdir x && echo "rmdir: ok"
		echo hi >g && mv g h && echo "create, rename: ok"
		rm h && echo "unlink: ok"
		cat ../d/f
		echo more >>../d/f 2>/dev/null || echo "append to a root file: refused"
		ls -a' sh "$U" 2>&1
}

@test "other uid: a process dropped to nobody works where the union lets it, as on overlayfs" {
	use_union shim
	local shim
	shim=$(scenario) || { echo "$shim"; false; }
	local before
	before=$(snapshot "$LOWER")
	make_layers
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
	chmod 755 "$ROOT" "$LOWER" "$UPPER" "$WORK" "$TARGET"
	use_union overlayfs
	BROKEN=()
	expect "the same answers" "$(scenario)" "$shim"
	verdict
	[ "$before" = "$(snapshot "$LOWER")" ]
}

@test "other uid: #state is shared with every uid; an unreadable one does not stop a process" {
	use_union shim
	in_union /bin/true
	[ "$(stat -c %a "$WORK/#state")" = 666 ]
	in_union sh -c 'mkdir "$1/pub" && chmod 777 "$1/pub"' sh "$TARGET"
	run as_nobody sh -c 'cat "$1/d/f" && echo x >"$1/pub/n" && rm "$1/pub/n" && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
	# a state an older version made private to root
	chmod 600 "$WORK/#state"
	run as_nobody sh -c 'cat "$1/d/f" && mkdir "$1/pub/m" && rmdir "$1/pub/m" && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
	# readable, not writable: mapped for reading; the process's own
	# changes, which it cannot announce, still reach its own lookups
	chmod 644 "$WORK/#state"
	run as_nobody bash -c 'cat "$1/d/f" && [ ! -e "$1/pub/n" ] && echo x >"$1/pub/n" &&
		[ -e "$1/pub/n" ] && mkdir "$1/pub/nd" && [ -d "$1/pub/nd" ] && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
}
