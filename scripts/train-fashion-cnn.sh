#!/usr/bin/env bash
# The CNN sample: two conv–BatchNorm–ReLU–max-pool blocks and a linear head on Fashion-MNIST (10 epochs by default),
# then predict with the saved and reloaded model. Needs only the .NET SDK; installs the data set from Debian if it is
# missing. Extra arguments go to the sample (--epochs, --batch-size, --data DIR, --output DIR, --seed, --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [[ " $* " != *" --data "* ]]; then
  echo "Fashion-MNIST not found: installing the Debian package dataset-fashion-mnist"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist
fi
exec dotnet run -c Release --project samples/FashionCnn -- "$@"
