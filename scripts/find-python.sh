#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (ansible 14 needs it): the environment's python3, then
# python3.13/3.12 on PATH, then pyenv's versions. Fail with a clear message if there is none.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
candidates=(python3 python3.13 python3.12)
for root in "${PYENV_ROOT:-$HOME/.pyenv}/versions"/3.1[2-9]*; do
  [ -x "$root/bin/python" ] && candidates+=("$root/bin/python")
done
for c in "${candidates[@]}"; do
  path=$(command -v "$c" 2>/dev/null) || continue
  if ok "$path"; then echo "$path"; exit 0; fi
done
echo "error: no Python >= 3.12 found (ansible 14 needs it). Install one (e.g. 'pyenv install 3.12')" \
     "and re-run make." >&2
exit 1
