# Service "web": nginx serving recorded answers of the outside sources `certdoctor check` asks,
# written afresh at every start by make_fixtures.py (times relative to now, as rate limits count
# the last 7 days): a Certificate Transparency search with crt.sh's JSON interface at
# ct.services.net, Let's Encrypt's status page as status.io JSON at status.services.net.
# The names are in the zone services.net (zones/cloudflare/services.net.zone).
# Also the hosting sites of web/sites.yaml (see its comment): make_sites.py writes the nginx
# servers (hosting.conf), the document roots and the lab CA's certificates ($LAB_DIR/ca), and
# special_http.py plays the servers nginx cannot (another host, a CDN proxy, hostile servers).

WEB_CT="192.0.2.80 2001:db8::80"
WEB_STATUS="192.0.2.81 2001:db8::81"

WEB_SITES="$LAB_HOME/web/sites.yaml"

svc_requires() {
    echo "nginx nginx"
    echo "python3 python3"
    echo "openssl openssl"
}

# web_site_hosts: sets HOST_NAMES, HOST_ADDRESSES (name -> "a b ...") and HOST_NOTES from the
# hosts of sites.yaml (their `addresses: [...]` and `note:` lines; bash only: no process).
web_site_hosts() {
    local line name="" a
    HOST_NAMES=()
    declare -gA HOST_ADDRESSES=() HOST_NOTES=()
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^sites: ]]; then
            break
        elif [[ $line =~ ^\ \ ([a-z0-9-]+):[[:space:]]*$ ]]; then
            name=${BASH_REMATCH[1]}
            HOST_NAMES+=("$name")
            HOST_ADDRESSES[$name]=""
        elif [ -n "$name" ] && [[ $line =~ ^\ +addresses:\ *\[(.*)\] ]]; then
            for a in ${BASH_REMATCH[1]//,/ }; do
                a=${a//\"/}
                HOST_ADDRESSES[$name]+="${HOST_ADDRESSES[$name]:+ }$a"
            done
        elif [ -n "$name" ] && [[ $line =~ ^\ +note:\ *(.*)$ ]]; then
            HOST_NOTES[$name]=${BASH_REMATCH[1]}
        fi
    done <"$WEB_SITES"
}

svc_addresses() {
    local name
    printf '%s\n' $WEB_CT $WEB_STATUS
    web_site_hosts
    # shellcheck disable=SC2086 # one address a line
    for name in "${HOST_NAMES[@]}"; do printf '%s\n' ${HOST_ADDRESSES[$name]}; done
}

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
    local dir="$LAB_DIR/web" python ct sites
    mkdir -p "$dir/fixtures" "$dir/tmp"
    # Debian's interpreter when present: make_fixtures.py needs nothing beyond the standard
    # library, make_sites.py the yaml module (python3-yaml).
    python=$(command -v /usr/bin/python3 || command -v python3)
    "$python" "$LAB_HOME/web/make_sites.py" "$WEB_SITES" "$dir" "$LAB_DIR/ca" &
    sites=$!
    "$python" "$LAB_HOME/web/make_fixtures.py" "$dir/fixtures" || lab_die "could not write the web fixtures"
    # The servers start once the configuration is written, while the CA is still being made.
    while [ ! -e "$dir/config-ready" ]; do
        kill -0 "$sites" 2>/dev/null || break
        lab_sleep 0.02
    done
    [ -e "$dir/config-ready" ] || { wait "$sites"; lab_die "could not make the hosting sites from $WEB_SITES"; }
    lab_spawn web-special "$dir/special.log" "$python" "$LAB_HOME/web/special_http.py" \
        --config "$dir/special.json" --certs "$LAB_DIR/ca" --pidfile "$dir/special-ready"
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
    if ! (lab_wait_path -s "$dir/special-ready" "special_http.py") 2>/dev/null; then
        lab_die "special_http.py did not start: $(tail -n 3 "$dir/special.log" 2>/dev/null | tr '\n' ' ')"
    fi
    wait "$sites" || lab_die "could not make the lab CA's certificates (see above)"
}

svc_summary() {
    printf '  %-11s %-52s %s\n' web "nginx: ct.services.net (crt.sh JSON)" "$(echo $WEB_CT)"
    printf '  %-11s %-52s %s\n' "" "status.services.net (status.io JSON)" "$(echo $WEB_STATUS)"
    local name n=0 line
    web_site_hosts
    while IFS= read -r line; do
        [[ $line =~ ^\ \ -\ \{site: ]] && n=$((n + 1))
    done <"$WEB_SITES"
    printf '  %-11s %-52s %s\n' "" "hosting: $n sites (web/sites.yaml), lab CA $LAB_DIR/ca" ""
    for name in "${HOST_NAMES[@]}"; do
        printf '  %-11s %-52s %s\n' "" "${name}: ${HOST_NOTES[$name]:0:$((50 - ${#name}))}" "${HOST_ADDRESSES[$name]:-}"
    done
}

svc_env() {
    echo "LAB_CT_URL=http://ct.services.net"
    echo "LAB_STATUS_BASE=http://status.services.net"
    # manifest.json there gives the fixtures' generation time and the times that matter.
    echo "LAB_WEB_FIXTURES=$LAB_DIR/web/fixtures"
    # The hosting sites: document roots ($LAB_DOCROOT/SITE/), the lab CA's roots for --ca-file.
    echo "LAB_SITES=$WEB_SITES"
    echo "LAB_DOCROOT=$LAB_DIR/web/docroot"
    echo "LAB_CA_FILE=$LAB_DIR/ca/root.pem"
    echo "LAB_CA_DIR=$LAB_DIR/ca"
    # (LAB_SAKURA_HOST, LAB_XSERVER_HOST and their HOST6 come from the knot service.)
    echo "LAB_OTHER_HOST=203.0.113.99"
}
