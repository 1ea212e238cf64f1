# Service "pebble": Let's Encrypt's test CA (Debian's pebble) at acme.services.net, 192.0.2.90.
# It resolves the names it validates through the lab's unbound (-dnsserver) and validates HTTP-01
# on port 80 of the address it finds, as Let's Encrypt does. Its ACME API is HTTPS with a
# certificate minted here at every start by a throwaway lab CA (openssl): ACME clients trust
# $LAB_ACME_CA (e.g. LEGO_CA_CERTIFICATES). Validation is real: no PEBBLE_VA_ALWAYS_VALID; no
# random sleep before validating and no rejected nonces, so that tests are quick and repeatable.
# Pebble's validation differs from Let's Encrypt's: see rules/ca/pebble.yaml.

PEBBLE_ADDRESS=192.0.2.90
PEBBLE_NAME=acme.services.net

svc_requires() {
    echo "pebble pebble"
    echo "openssl openssl"
}

svc_addresses() { echo "$PEBBLE_ADDRESS"; }

# pebble_mint DIR: a CA (ca.pem) and the API's certificate (cert.pem, key.pem) for the name and
# the address, valid for a day.
pebble_mint() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=certdoctor lab ACME API CA" -keyout "$dir/ca.key" -out "$dir/ca.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$PEBBLE_NAME" \
            -keyout "$dir/key.pem" -out "$dir/cert.csr" 2>/dev/null &&
        printf '%s\n' "subjectAltName=DNS:$PEBBLE_NAME,IP:$PEBBLE_ADDRESS" \
            "basicConstraints=critical,CA:FALSE" "extendedKeyUsage=serverAuth" >"$dir/cert.ext" &&
        openssl x509 -req -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
            -days 1 -extfile "$dir/cert.ext" -out "$dir/cert.pem" 2>/dev/null
}

svc_up() {
    local dir="$LAB_DIR/pebble" i
    mkdir -p "$dir"
    pebble_mint "$dir" || lab_die "openssl could not mint the certificate of the ACME API"
    cat >"$dir/pebble.json" <<JSON
{
  "pebble": {
    "listenAddress": "$PEBBLE_ADDRESS:443",
    "managementListenAddress": "$PEBBLE_ADDRESS:15000",
    "certificate": "$dir/cert.pem",
    "privateKey": "$dir/key.pem",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
JSON
    # PEBBLE_AUTHZREUSE=0: every order is validated afresh (no reuse of an earlier authorization).
    lab_spawn pebble "$dir/pebble.log" env PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_NOSLEEP=1 \
        PEBBLE_AUTHZREUSE=0 pebble -config "$dir/pebble.json" -dnsserver "$LAB_RESOLVER:53"
    # Pebble logs "Listening on" once its API socket is bound.
    local log=""
    for ((i = 0; i < 100; i++)); do
        IFS= read -r -d '' log <"$dir/pebble.log" || true
        [[ $log == *"Listening on: $PEBBLE_ADDRESS:443"* ]] && return 0
        lab_pid_running "$(<"$LAB_PIDS/pebble.pid")" || break
        lab_sleep 0.05
    done
    lab_die "pebble did not start: $(tail -n 3 "$dir/pebble.log" | tr '\n' ' ')"
}

svc_summary() {
    printf '  %-11s %-52s %s\n' pebble "Pebble ACME CA: https://$PEBBLE_NAME/dir" "$PEBBLE_ADDRESS"
}

svc_env() {
    echo "LAB_ACME_DIR=https://$PEBBLE_NAME/dir"
    # The CA lego and other ACME clients must trust for the API (not the issued certificates).
    echo "LAB_ACME_CA=$LAB_DIR/pebble/ca.pem"
    # Pebble's own root, which signs the certificates it issues: GET it from the management port.
    echo "LAB_ACME_ROOTS=https://$PEBBLE_NAME:15000/roots/0"
}
