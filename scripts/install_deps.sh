#!/usr/bin/env bash
# Installs the Debian packages selfsup needs (only those missing). As root it runs apt-get;
# otherwise it prints the exact command to run. Usage: scripts/install_deps.sh [--with-torch] [--with-fuzz]
#   --with-torch  python3-torch and python3-torchvision (fixture regeneration and benchmarks only)
#   --with-fuzz   clang and its sanitizer runtimes (libFuzzer targets)
set -euo pipefail

packages=(cmake ninja-build g++ libeigen3-dev doctest-dev libstb-dev libcli11-dev nlohmann-json3-dev
          zlib1g-dev libopenblas-openmp-dev libbenchmark-dev dataset-fashion-mnist)
for arg in "$@"; do
  case "$arg" in
    --with-torch) packages+=(python3-torch python3-torchvision python3-numpy) ;;
    --with-fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "install_deps.sh: unknown option '$arg' (use --with-torch, --with-fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi
command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages; run as root:" >&2
  echo "  apt-get update && $command" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
