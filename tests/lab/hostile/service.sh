# Service "hostile": ns.broken.net (hostile_dns.py, behaviour chosen by the query name), plus an
# address where nothing listens (port unreachable) and one that swallows queries (timeout).

HOSTILE_LISTEN="192.0.2.41 2001:db8::41"
HOSTILE_UNREACHABLE="192.0.2.42 2001:db8::42"
HOSTILE_BLACKHOLE="192.0.2.43 2001:db8::43"

svc_requires() { echo "python3 python3"; }

svc_addresses() { printf '%s\n' $HOSTILE_LISTEN $HOSTILE_UNREACHABLE $HOSTILE_BLACKHOLE; }

svc_up() {
    local dir="$LAB_DIR/hostile" python a args=()
    mkdir -p "$dir"
    # Debian's interpreter when present: the script needs nothing beyond the standard library.
    python=$(command -v /usr/bin/python3 || command -v python3)
    for a in $HOSTILE_LISTEN; do args+=(--listen "$a"); done
    for a in $HOSTILE_BLACKHOLE; do args+=(--blackhole "$a"); done
    lab_spawn hostile "$dir/hostile.log" "$python" "$LAB_HOME/hostile/hostile_dns.py" \
        --origin broken.net. --pidfile "$dir/ready" "${args[@]}"
    # The script writes its pid file once every socket is bound.
    lab_wait_path -s "$dir/ready" "hostile server ($dir/hostile.log)"
    for a in $HOSTILE_LISTEN; do
        lab_wait_answer "hostile server at $a ($dir/hostile.log)" '^NOERROR .*aa' "@$a" +norec ns.broken.net A
    done
}

svc_summary() {
    printf '  %-11s %-52s %s\n' hostile "ns.broken.net (hostile_dns.py)" "$(echo $HOSTILE_LISTEN)"
    printf '  %-11s %-52s %s\n' "" "nothing listens (port unreachable)" "$(echo $HOSTILE_UNREACHABLE)"
    printf '  %-11s %-52s %s\n' "" "receives, never answers" "$(echo $HOSTILE_BLACKHOLE)"
}

svc_env() {
    echo "LAB_HOSTILE_SERVERS=$(echo $HOSTILE_LISTEN | tr ' ' ,)"
    echo "LAB_UNREACHABLE=$(echo $HOSTILE_UNREACHABLE | tr ' ' ,)"
    echo "LAB_BLACKHOLE=$(echo $HOSTILE_BLACKHOLE | tr ' ' ,)"
}
