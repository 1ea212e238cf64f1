# Service "knot": one knotd per operator folder tests/lab/zones/<operator>/ (server.conf gives the
# listening addresses, every *.zone file is one zone; root.zone is the root zone).
#
# Zone files may carry directives in comments:
#   ;@sign                  the zone is signed by knot (key made with keymgr before the start)
#   ;@ds CHILD [corrupt]    replaced by the DS records of the signed zone CHILD; "corrupt" alters
#                           the digests so that the DS matches no key (a bogus chain)
# The root zone's DS is the resolver's trust anchor ($LAB_DIR/root.ds); the root server's NS
# and addresses, as it serves them, become $LAB_DIR/root.hints.
#
# Every program started costs tens of milliseconds here, so the operators are prepared in
# parallel and the helpers set variables instead of printing into $(...).

svc_requires() {
    echo "knotd knot"
    echo "keymgr knot"
    echo "knotc knot"
    echo "kdig knot-dnsutils"
}

KNOT_DIR="$LAB_DIR/knot"
KNOT_DS="$LAB_DIR/knot/ds"

# knot_operators: sets OPERATORS to the operator folder names.
knot_operators() {
    local d
    OPERATORS=()
    for d in "$LAB_HOME"/zones/*/; do
        d=${d%/}
        [ -f "$d/server.conf" ] && OPERATORS+=("${d##*/}")
    done
    return 0
}

# knot_load OPERATOR: sets ADDRESSES, FIRST (the first address), TITLE, HOST4 and HOST6 from
# the operator's server.conf.
knot_load() {
    ADDRESSES="" TITLE="$1" HOST4="" HOST6=""
    # shellcheck source=/dev/null
    source "$LAB_HOME/zones/$1/server.conf"
    FIRST=${ADDRESSES%% *}
}

# knot_zone_of FILE: sets ZONE to the zone name of a zone file ("." for root.zone).
knot_zone_of() {
    ZONE=${1##*/}
    ZONE=${ZONE%.zone}
    [ "$ZONE" != root ] || ZONE=.
}

# knot_is_signed FILE: true when the zone file carries ;@sign.
knot_is_signed() {
    local line
    while IFS= read -r line; do
        [[ $line == ';@sign'* ]] && return 0
    done <"$1"
    return 1
}

# knot_ds_file ZONE: sets DS_FILE to where the DS records of signed ZONE are kept.
knot_ds_file() { DS_FILE="$KNOT_DS/${1/#./root}.ds"; }

svc_addresses() {
    local op
    knot_operators
    for op in "${OPERATORS[@]}"; do
        knot_load "$op"
        printf '%s\n' $ADDRESSES
    done
}

# knot_configure OPERATOR: writes the operator's knot.conf; appends its signed zones to SIGNED
# as OPERATOR/ZONE.
knot_configure() {
    local op=$1 dir="$KNOT_DIR/$1" listen="" a file
    knot_load "$op"
    for a in $ADDRESSES; do listen+="${listen:+, }$a@53"; done
    lab_render "$LAB_HOME/knot/knot.conf.in" "$dir/knot.conf" OPERATOR="$op" DIR="$dir" LISTEN="$listen"
    for file in "$LAB_HOME/zones/$op"/*.zone; do
        knot_zone_of "$file"
        printf '  - domain: "%s"\n    file: "%s"\n' "$ZONE" "${file##*/}" >>"$dir/knot.conf"
        if knot_is_signed "$file"; then
            printf '    dnssec-signing: on\n    dnssec-policy: lab\n' >>"$dir/knot.conf"
            SIGNED+=("$op/$ZONE")
        fi
    done
}

# knot_make_key OPERATOR ZONE: a key for ZONE in the operator's KASP database, and its DS records.
knot_make_key() {
    local conf="$KNOT_DIR/$1/knot.conf"
    knot_ds_file "$2"
    keymgr -c "$conf" "$2" generate algorithm=ecdsap256sha256 ksk=yes zsk=yes >/dev/null ||
        lab_die "keymgr could not make a key for $2"
    keymgr -c "$conf" "$2" ds >"$DS_FILE" || lab_die "keymgr could not give the DS of $2"
}

# knot_start OPERATOR: zone files with the DS records filled in, then knotd.
knot_start() {
    local op=$1 dir="$KNOT_DIR/$1" file line child mode ds
    for file in "$LAB_HOME/zones/$op"/*.zone; do
        while IFS= read -r line || [ -n "$line" ]; do
            if [[ $line =~ ^\;@ds[[:space:]]+([^[:space:]]+)[[:space:]]*([a-z]*) ]]; then
                child=${BASH_REMATCH[1]%.}
                mode=${BASH_REMATCH[2]}
                knot_ds_file "${child:-.}"
                [ -s "$DS_FILE" ] || lab_die "$file: ;@ds $child: no operator signs $child"
                printf '; DS of %s (%s)\n' "$child" "${mode:-as published}"
                while read -r -a ds; do
                    if [ "$mode" = corrupt ]; then
                        # Same key tag and algorithm, another digest: the DS matches no DNSKEY.
                        ds[5]=$(tr 0-9a-f 1-9a-f0 <<<"${ds[5]}")
                    elif [ -n "$mode" ]; then
                        lab_die "$file: ;@ds $child $mode: unknown mode (only 'corrupt')"
                    fi
                    echo "${ds[*]}"
                done <"$DS_FILE"
            else
                printf '%s\n' "$line"
            fi
        done <"$file" >"$dir/zones/${file##*/}"
    done
    lab_spawn "knot-$op" "$dir/knot.log" knotd -c "$dir/knot.conf"
}

# knot_wait OPERATOR: every zone answers authoritatively at the first address, and every
# address answers; when not, the zone check tells why.
knot_wait() {
    local op=$1 dir="$KNOT_DIR/$1" file a queries=()
    knot_load "$op"
    # The control socket comes up after the listening sockets: kdig then gets replies, not timeouts.
    lab_wait_path -S "$dir/run/knot.sock" "knot $op ($dir/knot.log)"
    for file in "$LAB_HOME/zones/$op"/*.zone; do
        knot_zone_of "$file"
        queries+=("$ZONE" SOA "@$FIRST")
    done
    for a in $ADDRESSES; do queries+=("${queries[0]}" SOA "@$a"); done
    lab_poll_answers '^NOERROR .*aa' $((${#queries[@]} / 3)) +norec "${queries[@]}" && return 0
    if ! knotc -c "$dir/knot.conf" zone-check >"$dir/zone-check.log" 2>&1; then
        lab_die "zones of $op are invalid: $(grep -m 3 error "$dir/zone-check.log" | tr '\n' ' ')"
    fi
    lab_die "knot $op ($dir/knot.log) did not answer for all its zones: ${LAB_LAST_REPLIES//$'\n'/; }"
}

svc_up() {
    local op entry jobs=()
    SIGNED=()
    knot_operators
    for op in "${OPERATORS[@]}"; do mkdir -p "$KNOT_DIR/$op"/{zones,db,run}; done
    mkdir -p "$KNOT_DS"

    for op in "${OPERATORS[@]}"; do knot_configure "$op"; done
    declare -A signer=()
    for entry in "${SIGNED[@]}"; do
        op=${entry%%/*}
        ZONE=${entry#*/}
        [ -z "${signer[$ZONE]:-}" ] || lab_die "zone $ZONE is signed by both ${signer[$ZONE]} and $op"
        signer[$ZONE]=$op
        knot_make_key "$op" "$ZONE" &
        jobs+=($!)
    done
    lab_wait_jobs "making the DNSSEC keys" "${jobs[@]}"
    [ -n "${signer[.]:-}" ] || lab_die "no operator serves a signed root zone (root.zone with ;@sign)"

    jobs=()
    for op in "${OPERATORS[@]}"; do knot_start "$op" & jobs+=($!); done
    lab_wait_jobs "starting the knot servers" "${jobs[@]}"
    jobs=()
    for op in "${OPERATORS[@]}"; do knot_wait "$op" & jobs+=($!); done
    lab_wait_jobs "waiting for the knot servers" "${jobs[@]}"

    # Trust anchor and root hints for resolvers.
    local ds
    knot_ds_file .
    while read -r -a ds; do
        printf '%s 86400 IN DS %s %s %s %s\n' "${ds[0]}" "${ds[2]}" "${ds[3]}" "${ds[4]}" "${ds[5]}"
    done <"$DS_FILE" >"$LAB_DIR/root.ds"
    knot_load "${signer[.]}"
    lab_dig "@$FIRST" +norec . NS +noall +answer +additional |
        awk 'NF >= 5 { printf "%-24s 3600000 %-5s %s\n", toupper($1), $4, ($4 == "NS" ? toupper($5) : $5) }' >"$LAB_DIR/root.hints"
    grep -q ' NS ' "$LAB_DIR/root.hints" || lab_die "could not read the root servers from $FIRST"
}

svc_summary() {
    local op n s file
    knot_operators
    for op in "${OPERATORS[@]}"; do
        knot_load "$op"
        n=0 s=0
        for file in "$LAB_HOME/zones/$op"/*.zone; do
            n=$((n + 1))
            if knot_is_signed "$file"; then s=$((s + 1)); fi
        done
        printf '  %-11s %-52s %2d zones (%d signed)  %s\n' "$op" "$TITLE" "$n" "$s" "$(echo $ADDRESSES)"
    done
}

svc_env() {
    local op var
    echo "LAB_ROOT_HINTS=$LAB_DIR/root.hints"
    echo "LAB_TRUST_ANCHOR=$LAB_DIR/root.ds"
    knot_operators
    for op in "${OPERATORS[@]}"; do
        knot_load "$op"
        var=${op^^}
        var=${var//-/_}
        echo "LAB_${var}_SERVERS=${ADDRESSES// /,}"
        [ -z "$HOST4" ] || echo "LAB_${var}_HOST=$HOST4"
        [ -z "$HOST6" ] || echo "LAB_${var}_HOST6=$HOST6"
    done
}
