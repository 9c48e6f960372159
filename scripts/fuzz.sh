#!/usr/bin/env bash
# Runs every Go fuzz target of the repository (found with go test -list, so
# new targets are picked up without editing this file) for FUZZTIME each,
# one after the other. A crasher stops the run; go test has written it to
# the package's testdata/fuzz/<target>/, where it stays as a regression
# test once committed.
#
#   FUZZTIME=10m bash scripts/fuzz.sh         # make fuzz
#   FUZZTIME=2000x bash scripts/fuzz.sh       # make fuzz-short, as CI runs it: 2000 inputs each
#   FUZZPARALLEL=1 ...                        # one fuzzing worker (a shared machine)
#   FUZZ='FuzzNPY|FuzzIDX' ...                # only the targets matching a regexp
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10m}
FUZZ=${FUZZ:-.}
parallel=()
if [[ -n "${FUZZPARALLEL:-}" ]]; then
	parallel=(-parallel "$FUZZPARALLEL")
fi
# go test -list prints a package's matching names, then "ok <package> <time>".
targets=$("$GO" test -list '^Fuzz' ./... | awk '/^Fuzz/ {names = names " " $1; next} /^ok/ {if (names != "") print $2 names; names = ""}')
if [[ -z "$targets" ]]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
n=0
while read -r pkg names; do
	for t in $names; do
		if ! grep -qE "$FUZZ" <<<"$t"; then
			continue
		fi
		echo "fuzz: $pkg $t for $FUZZTIME"
		# Minimising each new input for 20 runs, not 60 s: a model input of
		# tens of kB otherwise spends the whole run being minimised.
		"$GO" test "$pkg" -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 20x "${parallel[@]}"
		n=$((n + 1))
	done
done <<<"$targets"
echo "fuzz: $n targets, $FUZZTIME each, no failures"
