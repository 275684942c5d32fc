# Sends signal $2 to the process group of the job in folder $1; a job never launched is fine.
pg=$(cat "$1/pid" 2>/dev/null) || exit 0
kill -s "$2" -- "-$pg" 2>/dev/null
exit 0
