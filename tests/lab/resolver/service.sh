# Service "resolver": unbound at $LAB_RESOLVER / $LAB_RESOLVER6, validating from the lab root
# (root hints and trust anchor written by the knot service). Programs run by `lab exec` use it
# through the namespace's resolv.conf.

svc_requires() {
    echo "unbound unbound"
    echo "unbound-checkconf unbound"
    echo "unbound-control unbound"
}

svc_addresses() { printf '%s\n' "$LAB_RESOLVER" "$LAB_RESOLVER6"; }

svc_up() {
    local dir="$LAB_DIR/resolver"
    mkdir -p "$dir"
    lab_render "$LAB_HOME/resolver/unbound.conf.in" "$dir/unbound.conf" DIR="$dir" \
        RESOLVER4="$LAB_RESOLVER" RESOLVER6="$LAB_RESOLVER6" \
        ROOT_HINTS="$LAB_DIR/root.hints" TRUST_ANCHOR="$LAB_DIR/root.ds"
    lab_spawn resolver "$dir/unbound.stderr" unbound -d -c "$dir/unbound.conf"
    # unbound opens the control socket after its listening sockets.
    if ! (lab_wait_path -S "$dir/unbound.ctl" "unbound") 2>/dev/null; then
        unbound-checkconf "$dir/unbound.conf" >"$dir/checkconf.log" 2>&1 ||
            lab_die "unbound rejects $dir/unbound.conf: $(tr '\n' ' ' <"$dir/checkconf.log")"
        lab_die "unbound did not start (see $dir/unbound.stderr and $dir/unbound.log)"
    fi
    # A validated root SOA proves the hints, the trust anchor and the root's signatures.
    lab_wait_answers "resolver ($dir/unbound.log)" '^NOERROR .*ad' 2 \
        +dnssec . SOA "@$LAB_RESOLVER" . SOA "@$LAB_RESOLVER6"
}

svc_summary() {
    printf '  %-11s %-52s %s\n' resolver "unbound (validating, EDE)" "$LAB_RESOLVER $LAB_RESOLVER6"
}

svc_env() {
    echo "LAB_RESOLVER=$LAB_RESOLVER"
    echo "LAB_RESOLVER6=$LAB_RESOLVER6"
    echo "LAB_UNBOUND_CONF=$LAB_DIR/resolver/unbound.conf"
}
