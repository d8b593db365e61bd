# shellcheck shell=bash
# Sourced by the scripts that train or time (run.sh, bench_gemm.sh, bench_conv.sh,
# bench_train_step.sh). An OPENBLAS_CORETYPE in the environment pins OpenBLAS's kernels, and
# core/cpu/blas_setup.cpp respects it. Some machines export one below what their CPU runs (seen
# here: OPENBLAS_CORETYPE=Haswell, AVX2, on an AVX-512 EPYC, which halves SGEMM throughput:
# 110 vs 205 GFLOP/s per core). When the pinned family is of a lower vector tier than the CPU
# supports, these scripts drop the pin for their run (for every program they start, PyTorch
# included) and say so. SELFSUP_KEEP_OPENBLAS_CORETYPE=1 keeps it.

# Vector tier of this CPU: 2 AVX-512 (F, BW, VL, DQ, CD), 1 AVX2 + FMA, 0 older.
selfsup_cpu_tier() {
  local flags
  flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  local f
  for f in avx512f avx512bw avx512vl avx512dq avx512cd; do
    [[ $flags == *" $f "* ]] || { [[ $flags == *" avx2 "* && $flags == *" fma "* ]] && echo 1 || echo 0; return; }
  done
  echo 2
}

# Vector tier of an OpenBLAS 0.3.21 kernel family (the same table as blas_kernel_tier in C++).
selfsup_blas_kernel_tier() {
  case "${1,,}" in
    skylakex | cooperlake | sapphirerapids) echo 2 ;;
    haswell | zen) echo 1 ;;
    *) echo 0 ;;
  esac
}

if [[ -n ${OPENBLAS_CORETYPE:-} && -z ${SELFSUP_KEEP_OPENBLAS_CORETYPE:-} ]] &&
  (($(selfsup_blas_kernel_tier "$OPENBLAS_CORETYPE") < $(selfsup_cpu_tier))); then
  echo "note: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE pins kernels below this CPU's vector units;" \
    "unset for this run (SELFSUP_KEEP_OPENBLAS_CORETYPE=1 keeps it)" >&2
  unset OPENBLAS_CORETYPE
fi
