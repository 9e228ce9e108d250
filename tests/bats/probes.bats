#!/usr/bin/env bats
# Promise (semantics.md "Lookup"): entry points no shell tool calls see the
# union too: the pre-2.33 __xstat/__lxstat/__fxstatat ABI, and the *at()
# calls relative to a dirfd of a union dir ("../x" from a subdir's dirfd
# included), and /proc/self/fd/N/NAME, /dev/fd/N/NAME naming union objects.
# The stack is tool_layers (tests/lib/itest.bash); the target is empty.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

setup() {
	make_layers
	tool_layers
}

@test "xstat_probe: the old stat ABI sees union objects" {
	run --separate-stderr in_union "$(probe xstat_probe)" "$TARGET/both" \
		"$TARGET/rel_link" "$TARGET/dir/sub/b1" "$TARGET/kind" \
		"$TARGET/gone_oci" "$TARGET/gone_ovl" "$TARGET/opq/old1" "$TARGET"
	[ "$status" -eq 0 ]
	same "$TARGET/both xstat=f:11 lxstat=f:11 fxstatat=f:11 fxstatat_nofollow=f:11 xstat64=f:11
$TARGET/rel_link xstat=f:7 lxstat=l:10 fxstatat=f:7 fxstatat_nofollow=l:10 xstat64=f:7
$TARGET/dir/sub/b1 xstat=f:7 lxstat=f:7 fxstatat=f:7 fxstatat_nofollow=f:7 xstat64=f:7
$TARGET/kind xstat=d:4096 lxstat=d:4096 fxstatat=d:4096 fxstatat_nofollow=d:4096 xstat64=d:4096
$TARGET/gone_oci xstat=ENOENT lxstat=ENOENT fxstatat=ENOENT fxstatat_nofollow=ENOENT xstat64=ENOENT
$TARGET/gone_ovl xstat=ENOENT lxstat=ENOENT fxstatat=ENOENT fxstatat_nofollow=ENOENT xstat64=ENOENT
$TARGET/opq/old1 xstat=ENOENT lxstat=ENOENT fxstatat=ENOENT fxstatat_nofollow=ENOENT xstat64=ENOENT
$TARGET xstat=d:4096 lxstat=d:4096 fxstatat=d:4096 fxstatat_nofollow=d:4096 xstat64=d:4096" "$output"
}

@test "xstat_probe: relative paths go through the virtual cwd" {
	run --separate-stderr in_union bash -c 'cd "$1/dir" && exec "$2" sub/b1 ../up_only' _ "$TARGET" "$(probe xstat_probe)"
	[ "$status" -eq 0 ]
	same "sub/b1 xstat=f:7 lxstat=f:7 fxstatat=f:7 fxstatat_nofollow=f:7 xstat64=f:7
../up_only xstat=f:11 lxstat=f:11 fxstatat=f:11 fxstatat_nofollow=f:11 xstat64=f:11" "$output"
}

@test "xstat_probe: without the shim the target is empty" {
	run --separate-stderr "$(probe xstat_probe)" "$TARGET/both"
	same "$TARGET/both xstat=ENOENT lxstat=ENOENT fxstatat=ENOENT fxstatat_nofollow=ENOENT xstat64=ENOENT" "$output"
}

@test "openat_probe: *at() from union dirfds, .., /proc/self/fd/N/name" {
	run --separate-stderr in_union "$(probe openat_probe)" "$TARGET"
	[ "$status" -eq 0 ]
	same "openat_upper_wins upper both
openat_lower2_only lower2 only
openat_deep sub b1
openat_rel_link sub b1
openat_abs_link lower2 only
openat_whiteout_oci ENOENT
openat_whiteout_ovl ENOENT
openat_opaque_hidden ENOENT
openat_reserved ENOENT
openat_nofollow_link ELOOP
fstatat_dir dir 4096
fstatat_kind dir 4096
fstatat_link_nofollow link 10
fstatat_link_follow file 7
fstatat_gonedir ENOENT
fstatat_empty_path dir 4096
readlinkat dir/sub/b1
readlinkat_notlink EINVAL
faccessat_r OK
faccessat_w OK
faccessat_f_gone ENOENT
faccessat_eaccess OK
dotdot_from_sub dir a
dotdot2_from_sub upper only
dotdot_fstatat dir 4096
sub_lower2_name sub b1
dotdot_past_root lower only
proc_self_fd_name sub b1
proc_self_fd_dotdot dir c
dev_fd_stat file 11
proc_self_fd_whiteout ENOENT
fdopendir_sub . .. a1 b1
fdopendir_root . .. abs_link both dir emptyd kind l2_only low_only opq opq2 rel_link up_only" "$output"
}
