#!/usr/bin/env bash
# Cut the CIFAR-10 JPEG copy into parts that fit a lent GPU machine's 64 MiB working tree beside the
# repository: .cifar-a/ and .cifar-b/ (git-ignored). Carry .cifar-a in one call and .cifar-b in the next
# (ignored files stay on a warm machine); tools/device_grid.sh joins and checks them there.
#   bash tools/split_cifar.sh [ZIP]   (default: $REGPRUNE_DATA/cifar10-jpeg/cifar10_jpeg.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
zip=${1:-${REGPRUNE_DATA:-data}/cifar10-jpeg/cifar10_jpeg.zip}
rm -rf .cifar-a .cifar-b && mkdir -p .cifar-a .cifar-b
split -b 32000000 -d -a 2 "$zip" .cifar-a/cifar10_jpeg.zip.part
mv .cifar-a/cifar10_jpeg.zip.part0[1-9] .cifar-b/
ls -l .cifar-a .cifar-b
