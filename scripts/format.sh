#!/usr/bin/env bash
# Formats the C sources of the library, its interceptors, the command-line
# tool, the examples and the fuzzers with clang-format (the repository's
# .clang-format), or checks them. Tests and benchmarks are left as written:
# their tables of cases are laid out by hand.
#   bash scripts/format.sh           # rewrite the files in place
#   bash scripts/format.sh --check   # print what would change; exit 1 if any
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || bash scripts/setup.sh clang-format >&2

check=false
case "${1:-}" in
"") ;;
--check) check=true ;;
*)
  echo "usage: bash scripts/format.sh [--check]" >&2
  exit 2
  ;;
esac

mapfile -t files < <(find src include interceptors exporter tools examples fuzz \
  -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) | sort)

unformatted=0
for f in "${files[@]}"; do
  if $check; then
    if ! clang-format "$f" | diff -u --label "$f" --label "$f (formatted)" \
      "$f" -; then
      unformatted=$((unformatted + 1))
    fi
  else
    clang-format -i "$f"
  fi
done

if $check; then
  echo "format: ${#files[@]} files, $unformatted not formatted"
  [ "$unformatted" -eq 0 ]
fi
