# Sourced by scripts/new-tool-{python,js,c}.sh with the language as $1 and the script's arguments
# after it: checks NAME and DIR, creates DIR with the WIT package in DIR/wit, and sets `name`,
# `dir` (absolute), `tool` (NAME with '-' as '_') and `here` (the scripts directory).
lang="$1"
shift
usage="usage: scripts/new-tool.sh NAME [DIR] --lang $lang   (NAME: lower case letters, digits, '-' or '_')"
name="${1:?$usage}"
[[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]] || { echo "invalid tool name: $name" >&2; echo "$usage" >&2; exit 2; }
dir="${2:-./$name}"
[ -e "$dir" ] && { echo "$dir already exists; not overwriting it" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -f "$here/../wit/world.wit" ] || { echo "the WIT package is missing at $here/../wit" >&2; exit 1; }
tool="${name//-/_}"
mkdir -p -- "$dir/wit"
dir="$(cd -- "$dir" && pwd)"
cp "$here/../wit"/*.wit "$dir/wit/"
