#!/bin/sh
# embed-text.sh NAME FILE — print a C file defining `const char NAME[]` with
# FILE's bytes, so a text file ships inside the binary.
set -e
name=$1
file=$2
printf '/* Generated from %s by scripts/embed-text.sh; do not edit. */\n' "$(basename "$file")"
printf 'const char %s[] =\n' "$name"
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$file"
printf ';\n'
