# copyup.bash: helpers of the write tests (copyup*, programs, erofs),
# loaded after common.bash and itest.bash (`load ../lib/copyup`).
#
#   lower_state        layer_state of the lower dirs only (names, types,
#                      modes, sizes, sums, link texts, mtimes, ctimes,
#                      owners, xattrs): compare before/after every write
#   lower_unchanged    compare with $LOWER_BEFORE (set it in setup)
#   upper_names        every name under $UPPER, sorted (empty: nothing
#                      was copied up)
#   meta PATH          mode, owner, mtime (ns) of a real path
#   times PATH         atime and mtime (ns) of a real path
#   user_xattrs PATH   the xattrs of a real path, one "name=value" a line
#   leftovers          the #us. temps of dead processes in $WORK

lower_state() {
	local d
	for d in "$LOWER" "$LOWER2"; do
		echo "== $d"
		snapshot "$d"
		(cd "$d" && find . -printf '%p %T@ %C@ %U:%G %n\n' | LC_ALL=C sort)
		(cd "$d" && getfattr -R -h -d -m - . 2>/dev/null)
	done
}

lower_unchanged() {
	same "$LOWER_BEFORE" "$(lower_state)"
}

upper_names() {
	(cd "$UPPER" && find . -mindepth 1 | LC_ALL=C sort)
}

meta() {
	stat -c '%F %a %u:%g %y' "$1"
}

times() {
	stat -c 'atime %x mtime %y' "$1"
}

user_xattrs() {
	getfattr -h -d -m - --absolute-names "$1" 2>/dev/null | grep -v '^# file:' | grep -v '^$' |
		grep -v '^user\.unionshim\.' | LC_ALL=C sort
}

# Temps (#us.PID...) left in the work dir by processes that are gone.
leftovers() {
	local f pid
	for f in "$WORK"/\#us.*; do
		[ -e "$f" ] || continue
		pid=${f##*/#us.}
		pid=${pid%%.*}
		kill -0 "$pid" 2>/dev/null || echo "$f"
	done
}
