#!/bin/sh
# install-config.sh SOURCE DIR — meson install step for the default config:
# install SOURCE as DIR/feedwatch.yaml unless that file exists already, in
# which case it goes to DIR/feedwatch.yaml.default. Honours DESTDIR.
set -eu
src=$1
dir=${DESTDIR:-}$2
mkdir -p "$dir"
if [ -e "$dir/feedwatch.yaml" ]; then
	if ! cmp -s "$src" "$dir/feedwatch.yaml"; then
		install -m 0644 "$src" "$dir/feedwatch.yaml.default"
		echo "Keeping $dir/feedwatch.yaml; the shipped one is feedwatch.yaml.default"
	fi
else
	install -m 0644 "$src" "$dir/feedwatch.yaml"
	echo "Installing $dir/feedwatch.yaml"
fi
