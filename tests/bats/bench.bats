#!/usr/bin/env bats
# bench: a smoke run of `make bench` (tests/bench/run --quick) on three
# ops: it runs, prints the table, and writes bench.json in the issue's
# format with a positive number per mode. No timing is asserted.

load ../lib/common
bats_require_minimum_version 1.5.0

BENCH=$BATS_TEST_DIRNAME/../bench/run

@test "bench --quick measures stat_hot, open_close and find in every mode and writes bench.json" {
	out=$BATS_TEST_TMPDIR/bench.json
	run "$BENCH" --quick --only stat_hot,open_close,find --out "$out" --dir "$BATS_TEST_TMPDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"shim/native"* ]]
	for op in stat_hot open_close find; do
		[[ "$output" == *"$op "* ]]
	done
	ovl=overlayfs_ns
	[ "$(id -u)" = 0 ] || ovl=
	python3 - "$out" "$ovl" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {r["op"]: r for r in doc["results"]}
assert sorted(rows) == ["find", "open_close", "stat_hot"], sorted(rows)
for op, r in rows.items():
    for key in ["native_ns", "unionshim_ns"] + ([sys.argv[2]] if sys.argv[2] else []):
        v = r[key]
        assert isinstance(v, (int, float)) and v > 0, (op, key, v)
    assert "overlayfs_ns" in r and (r["overlayfs_ns"] is None or r["overlayfs_ns"] > 0), r
    assert isinstance(r["noisy"], bool), r
PY
	# the layers are gone, overlayfs mounts too
	[ -z "$(ls -d "$BATS_TEST_TMPDIR"/unionshim-bench.* 2>/dev/null)" ]
}

@test "bench rejects an unknown op with one line and measures nothing" {
	run "$BENCH" --only stat_hot,nosuch --out "$BATS_TEST_TMPDIR/bench.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown op nosuch"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/bench.json" ]
}
