#!/usr/bin/env bash
# Runs every test and ends with the plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-data.sh    # the data-set tests read the real MNIST and Fashion-MNIST files
bash scripts/setup-browser.sh # the HTML report is tested in headless chromium
log=$(mktemp)
dotnet test Latent.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
line=$(grep -E "^(Passed|Failed)!" "$log" | tail -1)
passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$line")
failed=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
