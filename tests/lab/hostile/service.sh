# Service "hostile": ns.broken.net (hostile_dns.py, behaviour chosen by the query name), plus an
# address where nothing listens (port unreachable) and one that swallows queries (timeout); and
# two web servers on port 80 (hostile_http.py): hang.services.net accepts connections and never
# answers, slow.services.net sends its answer one byte per second.

HOSTILE_LISTEN="192.0.2.41 2001:db8::41"
HOSTILE_UNREACHABLE="192.0.2.42 2001:db8::42"
HOSTILE_BLACKHOLE="192.0.2.43 2001:db8::43"
HOSTILE_HANG="192.0.2.82 2001:db8::82"
HOSTILE_SLOW="192.0.2.83 2001:db8::83"

svc_requires() { echo "python3 python3"; }

svc_addresses() { printf '%s\n' $HOSTILE_LISTEN $HOSTILE_UNREACHABLE $HOSTILE_BLACKHOLE $HOSTILE_HANG $HOSTILE_SLOW; }

svc_up() {
    local dir="$LAB_DIR/hostile" python a args=() web=()
    mkdir -p "$dir"
    # Debian's interpreter when present: the script needs nothing beyond the standard library.
    python=$(command -v /usr/bin/python3 || command -v python3)
    for a in $HOSTILE_LISTEN; do args+=(--listen "$a"); done
    for a in $HOSTILE_BLACKHOLE; do args+=(--blackhole "$a"); done
    for a in $HOSTILE_HANG; do web+=(--hang "$a"); done
    for a in $HOSTILE_SLOW; do web+=(--slow "$a"); done
    lab_spawn hostile "$dir/hostile.log" "$python" "$LAB_HOME/hostile/hostile_dns.py" \
        --origin broken.net. --pidfile "$dir/ready" "${args[@]}"
    lab_spawn hostile-http "$dir/hostile-http.log" "$python" "$LAB_HOME/hostile/hostile_http.py" \
        --pidfile "$dir/http-ready" "${web[@]}"
    # The scripts write their pid files once every socket is bound.
    lab_wait_path -s "$dir/ready" "hostile server ($dir/hostile.log)"
    lab_wait_path -s "$dir/http-ready" "hostile web server ($dir/hostile-http.log)"
    for a in $HOSTILE_LISTEN; do
        lab_wait_answer "hostile server at $a ($dir/hostile.log)" '^NOERROR .*aa' "@$a" +norec ns.broken.net A
    done
}

svc_summary() {
    printf '  %-11s %-52s %s\n' hostile "ns.broken.net (hostile_dns.py)" "$(echo $HOSTILE_LISTEN)"
    printf '  %-11s %-52s %s\n' "" "nothing listens (port unreachable)" "$(echo $HOSTILE_UNREACHABLE)"
    printf '  %-11s %-52s %s\n' "" "receives, never answers" "$(echo $HOSTILE_BLACKHOLE)"
    printf '  %-11s %-52s %s\n' "" "hang.services.net: HTTP, never answers" "$(echo $HOSTILE_HANG)"
    printf '  %-11s %-52s %s\n' "" "slow.services.net: HTTP, one byte per second" "$(echo $HOSTILE_SLOW)"
}

svc_env() {
    echo "LAB_HOSTILE_SERVERS=$(echo $HOSTILE_LISTEN | tr ' ' ,)"
    echo "LAB_UNREACHABLE=$(echo $HOSTILE_UNREACHABLE | tr ' ' ,)"
    echo "LAB_BLACKHOLE=$(echo $HOSTILE_BLACKHOLE | tr ' ' ,)"
    echo "LAB_HANG_URL=http://hang.services.net"
    echo "LAB_SLOW_URL=http://slow.services.net"
}
