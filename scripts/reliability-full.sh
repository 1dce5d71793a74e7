#!/usr/bin/env bash
# The reliability suite (tests/ModelGen.Reliability.Tests) at its full counts; CI runs the same tests with small ones.
#   20,000 corrupted inputs per reader (9 readers)      MODELGEN_FUZZ_ITER          (CI: 300)
#   3,000 mutated model sources (generator + analyzer)  MODELGEN_MUTATION_ITER      (CI: 300)
#   10,000 training steps in the memory/handle soak     MODELGEN_LONG_STEPS         (CI: 1,000)
#   8 threads x 1,000 concurrent pipeline calls         MODELGEN_CONCURRENCY_CALLS  (CI: 25)
# Minimised failing inputs go to runs/fuzz-failures/<reader>/ (MODELGEN_FUZZ_FAILURES); once the reader is fixed,
# copy them into tests/ModelGen.Reliability.Tests/Corpus/<reader>/, which every run replays.
# Extra arguments go to dotnet test, e.g. --filter "FullyQualifiedName~Fuzz". About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export MODELGEN_FUZZ_ITER="${MODELGEN_FUZZ_ITER:-20000}"
export MODELGEN_MUTATION_ITER="${MODELGEN_MUTATION_ITER:-3000}"
export MODELGEN_LONG_STEPS="${MODELGEN_LONG_STEPS:-10000}"
export MODELGEN_CONCURRENCY_CALLS="${MODELGEN_CONCURRENCY_CALLS:-1000}"
export MODELGEN_FUZZ_FAILURES="${MODELGEN_FUZZ_FAILURES:-$PWD/runs/fuzz-failures}"
dotnet test tests/ModelGen.Reliability.Tests -c Release --logger "console;verbosity=normal" "$@"
