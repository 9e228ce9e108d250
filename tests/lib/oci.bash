# oci.bash: OCI image layouts for the unionctl export tests, unpacked by
# umoci (a real OCI tool), and a manifest of a tree to compare with.
#   oci_image DIR LAYER...   an image layout in DIR (tag "latest") whose
#                            layers are the tarballs given, bottom first
#                            (.tar, .tar.gz, .tar.zst by name)
#   oci_unpack DIR BUNDLE    umoci unpack; the tree is BUNDLE/rootfs
#   tree_manifest DIR        names, types, modes, owners, sizes, symlink
#                            targets, mtimes of non-dirs, device numbers,
#                            contents, link
#                            groups and user.* xattrs of the tree under DIR
#                            (run it in the union with in_union bash -c)

need_umoci() {
	command -v umoci >/dev/null || skip "umoci is not installed (.ci/run installs it)"
}

# blob FILE DIR: copy FILE into DIR/blobs/sha256, print "DIGEST SIZE".
oci_blob() {
	local sum size
	sum=$(sha256sum <"$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	cp "$1" "$2/blobs/sha256/$sum"
	echo "sha256:$sum $size"
}

oci_image() {
	local dir=$1 l media diff_ids="" layers="" d s cfg man
	shift
	mkdir -p "$dir/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	for l in "$@"; do
		case $l in
		*.gz) media=application/vnd.oci.image.layer.v1.tar+gzip
			d=$(gzip -dc "$l" | sha256sum | cut -d' ' -f1) ;;
		*.zst) media=application/vnd.oci.image.layer.v1.tar+zstd
			d=$(zstd -qdc "$l" | sha256sum | cut -d' ' -f1) ;;
		*) media=application/vnd.oci.image.layer.v1.tar
			d=$(sha256sum <"$l" | cut -d' ' -f1) ;;
		esac
		read -r s size < <(oci_blob "$l" "$dir")
		diff_ids+="${diff_ids:+,}\"sha256:$d\""
		layers+="${layers:+,}{\"mediaType\":\"$media\",\"digest\":\"$s\",\"size\":$size}"
	done
	printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$diff_ids" >"$dir/config.json"
	read -r cfg cfgsize < <(oci_blob "$dir/config.json" "$dir")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$cfg" "$cfgsize" "$layers" >"$dir/manifest.json"
	read -r man mansize < <(oci_blob "$dir/manifest.json" "$dir")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
		"$man" "$mansize" >"$dir/index.json"
	rm "$dir/config.json" "$dir/manifest.json"
}

oci_unpack() {
	umoci unpack --image "$1:latest" "$2" >/dev/null
}

tree_manifest() (
	cd "$1" || exit 1
	echo "== entries"
	find . -mindepth 1 \( -type d -printf '%P %y %m %U:%G\n' \) -o \
		\( -printf '%P %y %m %U:%G %s %l %T@\n' \) | LC_ALL=C sort
	echo "== device numbers"
	find . \( -type c -o -type b \) -print0 | LC_ALL=C sort -z | xargs -0 -r stat -c '%n %t:%T'
	echo "== contents"
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	echo "== link groups"
	find . -mindepth 1 ! -type d -links +1 -printf '%i %P\n' | LC_ALL=C sort -k2 |
		awk '{ g[$1] = g[$1] " " $2 } END { for (i in g) print g[i] }' | LC_ALL=C sort
	echo "== user xattrs"
	find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		xargs -0 -r getfattr -h -d -m '^user\.' --absolute-names 2>/dev/null
)
