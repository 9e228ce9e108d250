# ops_ids.awk: turns what one run of tests/bats/ops_differential.bats
# printed (overlayfs or shim) into text that can be compared between the
# two, where inode numbers differ. Run with LC_ALL=C:
#   awk -v stable=FILE -v inofile=OUT -f ops_ids.awk RAW
# RAW is, in order:
#   === ids0            then "PATH<TAB>INO" for the union before the ops
#   === ops             then what the ops printed (passed on, with NUL
#                       bytes written as ^@), where runs of lines
#                       "@<TAB>INO<TAB>NLINK<TAB>TYPE<TAB>PATH" (a check
#                       after a step) become "id PATH TYPE NLINK SAME",
#                       NLINK and SAME as below, SAME the first PATH of
#                       the run with the same st_ino
#   === view            then, sorted, "PATH<TAB>TYPE MODE LINK<TAB>INO NLINK
#                       DEV" per name and sha256sum lines
# Out: the ops' lines; "=== view" and the view as "PATH TYPE MODE LINK"
# and the sums; "=== ids", "st_dev: N" (how many st_dev the names have:
# 1, the mount's), and one line per name, in the view's order:
#   PATH TYPE NLINK SAME KEPT
# NLINK is st_nlink (a dir merged from layers says 1, as on overlayfs;
# a dir of one layer its own count); SAME is the smallest path (bytes) with the
# same st_ino when there is another, else "-"; KEPT is "kept" when the
# name was there before the ops with the same st_ino, "new" when it was
# there with another, "-" when it was not there. Into OUT (made empty):
# one line per name of FILE (names no op could have removed or replaced,
# as "./PATH") whose st_ino changed or which is gone: none when all is
# well. Exit status 1 when RAW has no view (the run did not finish).
BEGIN {
	FS = "\t"
	if (inofile == "")
		inofile = "/dev/stderr"
	nst = 0
	if (stable != "")
		while ((getline line < stable) > 0)
			st[++nst] = line
}
sec == "" && $0 == "=== ids0" { sec = "pre"; next }
sec == "pre" {
	if ($0 == "=== ops")
		sec = "ops"
	else
		pre[$1] = $2 ""
	next
}
sec == "ops" && substr($0, 1, 2) == "@\t" {
	run[++nrun] = $0
	next
}
sec == "ops" {
	flush()
	if ($0 == "=== view")
		sec = "view"
	gsub(/\000/, "^@")	# cat of a file with holes: the test reads
	print			# this in bash, where NUL ends a string
	next
}
sec == "view" {
	if (NF != 3) {
		print
		next
	}
	split($3, a, " ")
	i = a[1] ""
	if (!(a[3] in devs)) {
		devs[a[3]] = 1
		ndev++
	}
	n++
	path[n] = $1
	ty[n] = substr($2, 1, 1)
	ino[n] = i
	nl[n] = a[2]
	post[$1] = i
	cnt[i]++
	if (!(i in lab) || $1 < lab[i])
		lab[i] = $1
	print $1 " " $2
	next
}
function flush(k, j, f, g, same) {
	for (k = 1; k <= nrun; k++) {
		split(run[k], f, "\t")
		same = "-"
		for (j = 1; j < k && same == "-"; j++) {
			split(run[j], g, "\t")
			if (g[2] "" == f[2] "")
				same = g[5]
		}
		print "id " f[5] " " f[4] " " f[3] " " same
	}
	nrun = 0
}
END {
	flush()
	print "=== ids"
	print "st_dev: " ndev + 0
	for (k = 1; k <= n; k++) {
		i = ino[k]
		p = path[k]
		print p " " ty[k] " " nl[k] " " \
		    (cnt[i] > 1 ? lab[i] : "-") " " \
		    (p in pre ? (pre[p] == i ? "kept" : "new") : "-")
	}
	printf "" > inofile
	for (k = 1; k <= nst; k++) {
		p = st[k]
		if (!(p in post))
			print "gone: " p > inofile
		else if (!(p in pre))
			print "not there before: " p > inofile
		else if (pre[p] != post[p])
			print "st_ino changed: " p > inofile
	}
	if (sec != "view")
		exit 1
}
