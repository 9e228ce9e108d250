#!/bin/bash
# usage: UMTS_SUITE=DIR run_all.sh shim|kernel nonsamefs|samefs "--ov[=N] [RUN FLAGS]" [TEST...]
# Runs each test of unionmount-testsuite (a checkout at UMTS_SUITE) in its
# own process, under the shim (umts_shim.py) or on kernel overlayfs (the
# suite's own ./run); logs in $UMTS_OUT (default /tmp/umts-results)/<mode>-<fs>-<flags>/.
# Layer dirs: /tmp/umts/{s,k}/{base,lower,sbase} (tmpfs, mounted here: run as root), mnt.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${UMTS_SUITE:?set UMTS_SUITE to a checkout of unionmount-testsuite}"
export UMTS_SUITE
mode=$1 fs=$2 flags=$3; shift 3
d=/tmp/umts/${mode:0:1}
for x in base lower sbase; do mkdir -p $d/$x; mountpoint -q $d/$x || mount -t tmpfs ${mode:0:1}_$x $d/$x; done
mkdir -p $d/mnt
unset UNIONMOUNT_BASEDIR UNIONMOUNT_LOWERDIR UNIONMOUNT_MNTPOINT UMTS_LOWER_RO
if [ $fs = samefs ]; then
  export UNIONMOUNT_BASEDIR=$d/sbase        # lower=$d/sbase/l, upper=$d/sbase/0/u, union=$d/sbase/m
else
  export UNIONMOUNT_BASEDIR=$d/base UNIONMOUNT_LOWERDIR=$d/lower UNIONMOUNT_MNTPOINT=$d/mnt
  [ $mode = shim ] && export UMTS_LOWER_RO=$d/lower   # lower tmpfs is ro while the union is up
fi
tests=("$@"); sum=summary-extra.txt
if [ ${#tests[@]} = 0 ]; then
  sum=summary.txt
  tests=($(sed -n '/^tests = \[/,/^    \]/p' $UMTS_SUITE/run | grep -o '"[a-z0-9-]*"' | tr -d '"') rename-dir rename-empty-dir rename-pop-dir rename-move-dir)
fi
out=${UMTS_OUT:-/tmp/umts-results}/$mode-$fs-$(echo $flags | tr -d ' -')
mkdir -p $out
for t in "${tests[@]}"; do
  if [ $mode = shim ]; then
    (cd "$UMTS_SUITE" && timeout 300 python3 $HERE/umts_shim.py $flags $t) >$out/$t.log 2>&1
  else
    (cd "$UMTS_SUITE" && timeout 300 ./run $flags $t) >$out/$t.log 2>&1
  fi
  rc=$?
  if [ $rc = 0 ]; then r=PASS; else r="FAIL: $(grep -v '^ \./run\|^TEST\|^\*\*\*' $out/$t.log | tail -1)"; fi
  printf '%-24s %s\n' $t "$r"
done | tee $out/$sum
