#!/bin/sh
# Makes big-file.tar.gz: the seed's large downloaded archive (about 16 MB), offline.
set -e
mkdir -p big-file
head -c 16777216 /dev/urandom > big-file/data.bin
echo 'echo big-file ready' > big-file/setup.sh
tar czf big-file.tar.gz big-file
rm -rf big-file
