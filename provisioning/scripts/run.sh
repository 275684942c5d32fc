# Runs as the leader of a new session (setsid), so its pid is the group every child joins. The
# mkdir makes a repeated launch (a retried task) a no-op; the exit code appears atomically.
# $1 the job's folder.
mkdir "$1/launched" 2>/dev/null || exit 0
echo $$ > "$1/pid"
if command -v bash >/dev/null 2>&1; then shell=bash; else shell=sh; fi
"$shell" "$1/command" > "$1/log" 2>&1 < /dev/null
echo $? > "$1/exit.tmp" && mv "$1/exit.tmp" "$1/exit"
