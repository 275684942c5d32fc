# Positional arguments ($1, $2, ...) carry the command and paths, so nothing is quoted by hand.
# $1 the job's folder, $2 the hostfile's text, $3 the command.
set -e
mkdir -p "$1"
printf '%s\n' "$3" > "$1/command"
printf '%s' "$2" > "$1/hostfile"
mkdir -p "${HOME:-/tmp}/.sandbox"
cp "$1/hostfile" "${HOME:-/tmp}/.sandbox/hostfile"
