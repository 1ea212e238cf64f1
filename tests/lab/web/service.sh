# Service "web": nginx serving recorded answers of the outside sources `certdoctor check` asks,
# written afresh at every start by make_fixtures.py (times relative to now, as rate limits count
# the last 7 days): a Certificate Transparency search with crt.sh's JSON interface at
# ct.services.net, Let's Encrypt's status page as status.io JSON at status.services.net.
# The names are in the zone services.net (zones/cloudflare/services.net.zone).

WEB_CT="192.0.2.80 2001:db8::80"
WEB_STATUS="192.0.2.81 2001:db8::81"

svc_requires() {
    echo "nginx nginx"
    echo "python3 python3"
}

svc_addresses() { printf '%s\n' $WEB_CT $WEB_STATUS; }

# web_listen ADDRESS...: sets LISTEN to nginx listen directives for port 80 of each address.
web_listen() {
    local a
    LISTEN=""
    for a in "$@"; do
        if [[ $a == *:* ]]; then a="[$a]"; fi
        LISTEN+="${LISTEN:+$'\n        '}listen $a:80;"
    done
}

svc_up() {
    local dir="$LAB_DIR/web" python ct
    mkdir -p "$dir/fixtures" "$dir/tmp"
    # Debian's interpreter when present: the script needs nothing beyond the standard library.
    python=$(command -v /usr/bin/python3 || command -v python3)
    "$python" "$LAB_HOME/web/make_fixtures.py" "$dir/fixtures" || lab_die "could not write the web fixtures"
    web_listen $WEB_CT
    ct=$LISTEN
    web_listen $WEB_STATUS
    lab_render "$LAB_HOME/web/nginx.conf.in" "$dir/nginx.conf" DIR="$dir" FIXTURES="$dir/fixtures" \
        CT_LISTEN="$ct" STATUS_LISTEN="$LISTEN"
    # -e: the error log before the configuration is read (not Debian's /var/log/nginx).
    lab_spawn web "$dir/nginx.stderr" nginx -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf"
    # nginx writes its pid file once every listening socket is bound.
    if ! (lab_wait_path -s "$dir/nginx.pid" "nginx") 2>/dev/null; then
        lab_die "nginx did not start: $(tail -n 3 "$dir/error.log" "$dir/nginx.stderr" 2>/dev/null | tr '\n' ' ')"
    fi
}

svc_summary() {
    printf '  %-11s %-52s %s\n' web "nginx: ct.services.net (crt.sh JSON)" "$(echo $WEB_CT)"
    printf '  %-11s %-52s %s\n' "" "status.services.net (status.io JSON)" "$(echo $WEB_STATUS)"
}

svc_env() {
    echo "LAB_CT_URL=http://ct.services.net"
    echo "LAB_STATUS_BASE=http://status.services.net"
    # manifest.json there gives the fixtures' generation time and the times that matter.
    echo "LAB_WEB_FIXTURES=$LAB_DIR/web/fixtures"
}
