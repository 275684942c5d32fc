# Prints "<state> <log size> <bytes that follow>" then that much of the log from offset $2.
# $1 the job's folder, $2 the offset already read, $3 the most bytes to print.
d=$1
if [ -f "$d/exit" ]; then state="exit:$(cat "$d/exit")"
elif [ ! -f "$d/pid" ]; then state=absent
elif kill -0 "$(cat "$d/pid")" 2>/dev/null; then state=running
elif [ -f "$d/exit" ]; then state="exit:$(cat "$d/exit")"
else state=gone
fi
size=$(stat -c %s "$d/log" 2>/dev/null || echo 0)
n=$((size - $2))
if [ "$n" -gt "$3" ]; then n=$3; fi
if [ "$n" -lt 0 ]; then n=0; fi
echo "$state $size $n"
if [ "$n" -gt 0 ]; then tail -c +$(($2 + 1)) "$d/log" | head -c "$n"; fi
exit 0
