#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs dependencies, then runs the type
# gate, the import lint, the generated-code check, the build and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm test
