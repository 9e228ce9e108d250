#!/usr/bin/env bats
# Promise (a lower is never written, by any route): a program that dumps
# core while its cwd is a union dir no upper dir backs leaves no core in
# the lower (the kernel writes a relative core_pattern's file into the
# real cwd, there the lower's dir): the shim holds the real soft core
# limit at 0 there. The program still reads and sets its own limit,
# through every libc entry and raw system call, and its children get it;
# in a dir an upper dir backs the core lands in the upper, as on
# overlayfs.

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/d/sub"
	echo x >"$LOWER/d/f"
}

# The kernel writes a relative core file here: the pattern names one and
# a native crash in a plain dir leaves it.
need_relative_cores() {
	local pattern
	pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null) || skip "no core_pattern"
	case $pattern in
	'|'* | /*) skip "core_pattern is not a relative file: $pattern" ;;
	esac
	[ "$(ulimit -H -c)" != 0 ] || skip "the hard core limit is 0"
	mkdir -p "$ROOT/native"
	(cd "$ROOT/native" && ulimit -S -c unlimited && sh -c 'kill -SEGV $$') || true
	compgen -G "$ROOT/native/core*" >/dev/null || skip "a native crash writes no core here"
}

@test "a crash in a lower-backed cwd leaves no core in the lower; in an upper-backed one the core lands in the upper" {
	need_relative_cores
	local before
	before=$(snapshot "$LOWER")
	run --separate-stderr in_union bash -c "ulimit -S -c unlimited
		cd '$TARGET/d/sub' && sh -c 'kill -SEGV \$\$'; echo status=\$?
		ulimit -c
		mkdir '$TARGET/e' && cd '$TARGET/e' && sh -c 'kill -SEGV \$\$'; echo status=\$?"
	echo "$output"
	[ "${lines[0]}" = status=139 ]
	[ "${lines[1]}" = unlimited ]
	[ "${lines[2]}" = status=139 ]
	[ "$(snapshot "$LOWER")" = "$before" ]
	! compgen -G "$LOWER/d/sub/core*"
	compgen -G "$UPPER/e/core*"
	# the core is the union's, as a file the program made there
	run in_union sh -c "ls '$TARGET/e' | grep -c '^core'"
	[ "$output" = 1 ]
	# a child put into a lower dir by a spawn file action, its parent's
	# cwd elsewhere (nothing held there): held from its start
	run --separate-stderr in_union bash -c "ulimit -S -c unlimited; cd '$TARGET/e' &&
		'$(probe spawn_actions)' chdir:'$TARGET/d/sub' -- /bin/sh -c 'kill -SEGV \$\$'"
	echo "$output"
	[ "$output" = "spawn: OK, exit=-1" ]
	[ "$(snapshot "$LOWER")" = "$before" ]
	! compgen -G "$LOWER/d/sub/core*"
}

@test "the program reads and sets its own core limit while the shim holds it; children get it" {
	local p relative=0
	p=$(probe rlimit_probe)
	case $(cat /proc/sys/kernel/core_pattern 2>/dev/null) in
	'|'* | /*) ;;
	*) relative=1 ;;
	esac
	run in_union bash -c "ulimit -S -c 0; cd '$TARGET/d' &&
		'$p' show set 5000 show pset 6000 show sysset 7000 show faults \
			cd .. show cd d show set 0 show set 5000 cd '$TARGET' show"
	echo "$output"
	# the kernel's soft limit in a lower dir: 0 where a core would land there
	local k7000=7000 k6000=6000 k5000=5000
	if [ $relative = 1 ]; then k7000=0 k6000=0 k5000=0; fi
	[ "${lines[0]}" = "show 0 0 0 0 0 kernel=0" ]
	[ "${lines[1]}" = "set OK" ]
	[ "${lines[2]}" = "show 5000 5000 5000 5000 5000 kernel=$k5000" ]
	[ "${lines[3]}" = "pset OK old=5000" ]
	[ "${lines[4]}" = "show 6000 6000 6000 6000 6000 kernel=$k6000" ]
	[ "${lines[5]}" = "sysset OK old=6000" ]
	[ "${lines[6]}" = "show 7000 7000 7000 7000 7000 kernel=$k7000" ]
	[ "${lines[7]}" = "setrlimit-badptr EFAULT" ]
	[ "${lines[8]}" = "prlimit-badptr EFAULT" ]
	[ "${lines[9]}" = "sys-setrlimit-badptr EFAULT" ]
	[ "${lines[11]}" = "show 7000 7000 7000 7000 7000 kernel=$k7000" ]
	# out of the lower (the union's root: its upper dir) and back
	[ "${lines[12]}" = "cd OK" ]
	[ "${lines[13]}" = "show 7000 7000 7000 7000 7000 kernel=7000" ]
	[ "${lines[14]}" = "cd OK" ]
	[ "${lines[15]}" = "show 7000 7000 7000 7000 7000 kernel=$k7000" ]
	[ "${lines[16]}" = "set OK" ]
	[ "${lines[17]}" = "show 0 0 0 0 0 kernel=0" ]
	# set in a lower dir, then out: the kernel gets the value
	[ "${lines[18]}" = "set OK" ]
	[ "${lines[19]}" = "cd OK" ]
	[ "${lines[20]}" = "show 5000 5000 5000 5000 5000 kernel=5000" ]

	# a child exec'd in a lower dir, and one exec'd after the cwd left it
	run in_union bash -c "cd '$TARGET/d' && ulimit -S -c 24 && '$p' show &&
		bash -c 'ulimit -c' && cd .. && '$p' show"
	echo "$output"
	local k24576=24576
	[ $relative = 0 ] || k24576=0
	[ "${lines[0]}" = "show 24576 24576 24576 24576 24576 kernel=$k24576" ]
	[ "${lines[1]}" = 24 ]
	[ "${lines[2]}" = "show 24576 24576 24576 24576 24576 kernel=24576" ]
}
