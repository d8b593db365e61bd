#!/usr/bin/env bash
# Builds the libFuzzer targets with Debian's clang 14 (-fsanitize=fuzzer,address,undefined) in
# build-fuzz/ from only the sources they need, and runs each for a fixed number of executions.
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory.
#   scripts/fuzz.sh                 every target, 100000 executions each
#   scripts/fuzz.sh 20000 idx image a shorter run of some targets
# Targets: idx, cifar, image (data/), and safetensors (fuzz/fuzz_safetensors.cpp, core) when present.
# Seeds come from fuzz/corpus/<target>; new inputs go to build-fuzz/corpus/<target> (not committed);
# crashing inputs are written to build-fuzz/artifacts/. Logs: build-fuzz/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=${1:-100000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(idx cifar image)
  [ -f fuzz/fuzz_safetensors.cpp ] && targets+=(safetensors)
fi

CXX=${CXX:-clang++}
CC=${CC:-clang}
export CC CXX
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
out=build-fuzz
mkdir -p "$out/artifacts" "$out/stb_patched"
cmake -DSTB_IN=/usr/include/stb/stb_image.h -DSTB_OUT="$out/stb_patched/stb_image_patched.h" -P data/patch_stb_image.cmake

# Debian's clang 14 has no __builtin_source_location; the shim provides std::source_location.
common="-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
common+=" -include $root/fuzz/source_location_shim.h -I$root -I$root/$out/stb_patched -I/usr/include/eigen3"

data_sources=(data/file_io.cpp data/idx.cpp data/cifar.cpp data/dataset.cpp data/image.cpp data/image_decode.cpp
              data/stb_image_impl.cpp core/error.cpp)
core_sources=(core/*.cpp core/cpu/*.cpp)

# A generated ninja file gives incremental, parallel (-j2) builds with no CMake project.
{
  echo "cxx = $CXX"
  echo "cflags = $common"
  echo "rule cxx"
  echo "  command = \$cxx \$cflags \$extra -fsanitize=fuzzer-no-link -MD -MF \$out.d -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  deps = gcc"
  echo "  description = CXX \$out"
  echo "rule link"
  echo "  command = \$cxx \$cflags -fsanitize=fuzzer \$in -o \$out \$libs"
  echo "  description = LINK \$out"
  obj() { echo "obj/${1%.cpp}.o"; }
  for s in "${data_sources[@]}"; do
    extra=""
    [ "$s" = data/stb_image_impl.cpp ] && extra="-w"
    echo "build $(obj "$s"): cxx $root/$s"
    echo "  extra = $extra"
  done
  data_objs=""
  for s in "${data_sources[@]}"; do data_objs+=" $(obj "$s")"; done
  for t in idx cifar image; do
    echo "build obj/fuzz/fuzz_$t.o: cxx $root/fuzz/fuzz_$t.cpp"
    echo "build fuzz_$t: link obj/fuzz/fuzz_$t.o$data_objs"
    echo "  libs = -lz"
  done
  if [ -f fuzz/fuzz_safetensors.cpp ]; then
    core_objs=""
    for s in "${core_sources[@]}"; do
      core_objs+=" $(obj "$s")"
      [ "$s" = core/error.cpp ] && continue  # already built for the data targets
      echo "build $(obj "$s"): cxx $root/$s"
      echo "  extra = -fopenmp"
    done
    echo "build obj/fuzz/fuzz_safetensors.o: cxx $root/fuzz/fuzz_safetensors.cpp"
    echo "build fuzz_safetensors: link obj/fuzz/fuzz_safetensors.o$core_objs"
    echo "  libs = -fopenmp"
  fi
} > "$out/build.ninja"

build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
nice -n 10 ninja -C "$out" -j 2 "${build_targets[@]}"

declare -A max_len=([idx]=8192 [cifar]=16384 [image]=16384 [safetensors]=4096)
status=0
summary=""
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t"
  log="$out/$t.log"
  echo "== fuzz_$t: $runs executions (log: $log)"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$out/fuzz_$t" -runs="$runs" -max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(find "$out/corpus/$t" -mindepth 1 -maxdepth 1 | wc -l)
  if [ $rc -ne 0 ]; then
    status=1
    echo "   FAILED (exit $rc); tail of the log:"
    tail -n 30 "$log"
  fi
  line=$(printf "%-12s exit %-3s executed %-8s corpus %s" "$t" "$rc" "$executed" "$corpus")
  summary+="$line"$'\n'
done
echo
echo "fuzz summary (target, exit status, executions, corpus files):"
printf "%s" "$summary"
exit $status
