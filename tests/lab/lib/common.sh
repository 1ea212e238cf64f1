# Helpers shared by `lab`, `selftest` and every service's service.sh (sourced, never run).
# Everything here refers to the namespace $LAB_NS and the state directory $LAB_DIR.
# shellcheck disable=SC2034 # the LAB_* variables are for the scripts that source this file

# Knot and unbound install their daemons in /usr/sbin, which a non-login shell may lack.
PATH="$PATH:/usr/sbin:/sbin"

LAB_HOME=${LAB_HOME:-$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)}
LAB_NS=${CERTDOCTOR_LAB_NS:-certdoctor-lab}
LAB_DIR=${CERTDOCTOR_LAB_DIR:-/tmp/certdoctor-lab}
LAB_PIDS="$LAB_DIR/pids"
LAB_MARKER="$LAB_DIR/.certdoctor-lab"
LAB_RESOLV_CONF="/etc/netns/$LAB_NS/resolv.conf"

# The resolver is what `lab exec` programs use by default (resolv.conf) and what tests query.
LAB_RESOLVER=192.0.2.53
LAB_RESOLVER6=2001:db8::53

# lab_sleep SECONDS: a sleep without starting a program: read times out on a FIFO nobody writes
# (fd 8). Programs are slow to start on small machines and `lab up` polls a lot.
LAB_SLEEP_FIFO=""
lab_sleep_init() {
    local fifo
    fifo="${TMPDIR:-/tmp}/certdoctor-lab-sleep.$$.$RANDOM"
    if mkfifo -m 600 "$fifo" && exec 8<>"$fifo"; then
        LAB_SLEEP_FIFO=$fifo
    fi
    rm -f "$fifo"
}
lab_sleep() {
    if [ -n "$LAB_SLEEP_FIFO" ]; then
        read -r -t "$1" -u 8 _ || true
    else
        sleep "$1"
    fi
}

# lab_wait_path TEST PATH DESC: waits (5 s at most) until `test TEST PATH` holds.
lab_wait_path() {
    local i
    for ((i = 0; i < 100; i++)); do
        test "$1" "$2" && return 0
        lab_sleep 0.05
    done
    lab_die "$3: $2 did not appear"
}

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# lab_require PROGRAM PACKAGE: fails naming the Debian package when PROGRAM is not installed.
lab_require() {
    command -v "$1" >/dev/null 2>&1 ||
        lab_die "'$1' not found; install the Debian package '$2' (apt-get install $2)"
}

# lab_ns_exists: true when the namespace exists.
lab_ns_exists() { [ -e "/run/netns/$LAB_NS" ]; }

# lab_in_ns CMD...: runs CMD inside the namespace.
lab_in_ns() { ip netns exec "$LAB_NS" "$@"; }

# lab_spawn NAME LOGFILE CMD...: starts a foreground daemon inside the namespace, detached
# from the caller's session, and records its pid in $LAB_PIDS/NAME.pid.
lab_spawn() {
    local name=$1 logfile=$2
    shift 2
    mkdir -p "$LAB_PIDS"
    # The shell records its own pid and then execs `ip netns exec`, which execs CMD in place:
    # the pid file names the daemon itself whether or not setsid had to fork.
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid bash -c 'echo $$ >"$1"; shift; exec ip netns exec "$@"' lab-spawn \
        "$LAB_PIDS/$name.pid" "$LAB_NS" "$@" </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
    local i
    for ((i = 0; i < 40; i++)); do
        [ -s "$LAB_PIDS/$name.pid" ] && return 0
        lab_sleep 0.05
    done
    lab_die "$name did not start (see $logfile)"
}

# lab_pid_running PID: true when PID exists and is not a zombie (nothing may reap it soon).
lab_pid_running() {
    local stat
    [ -n "$1" ] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# lab_pid_alive PID: true when PID runs inside the lab's namespace (guards against pid reuse).
lab_pid_alive() {
    lab_pid_running "$1" && [ "/proc/$1/ns/net" -ef "/run/netns/$LAB_NS" ]
}

# lab_stop_pids PID...: SIGTERM, up to 3 s of grace, then SIGKILL.
lab_stop_pids() {
    local pid live i
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((i = 0; i < 60; i++)); do
        live=()
        for pid in "$@"; do
            if lab_pid_running "$pid"; then live+=("$pid"); fi
        done
        [ ${#live[@]} -eq 0 ] && return 0
        lab_sleep 0.05
    done
    for pid in "${live[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

# lab_dig ARGS...: kdig inside the namespace with short timeouts.
lab_dig() { lab_in_ns kdig +timeout=1 +retry=0 "$@"; }

# lab_dig_status KDIG-ARGS...: prints "STATUS FLAGS..." for each reply (e.g. "NOERROR qr aa"),
# "NOREPLY" when no reply arrived at all. kdig takes several queries in one run:
# NAME TYPE [@SERVER] NAME TYPE [@SERVER] ...
lab_dig_status() {
    { lab_dig "$@" 2>/dev/null || true; } | awk '
        function flush() { if (s != "") print s, f; s = ""; f = "" }
        /->>HEADER<<-/ { flush(); for (i = 1; i <= NF; i++) if ($i == "status:") { s = $(i + 1); sub(/[;,]$/, "", s) } }
        /^;; Flags:/   { f = $0; sub(/^;; Flags: */, "", f); sub(/;.*/, "", f) }
        END { flush(); if (NR == 0) print "NOREPLY" }'
}

# lab_poll_answers EXPECT COUNT KDIG-ARGS...: retries (about 3 s at most) until the kdig run gives
# COUNT replies whose "STATUS FLAGS" lines all match the extended regex EXPECT; returns 1 when
# they never do, with the last replies in LAB_LAST_REPLIES.
lab_poll_answers() {
    local expect=$1 count=$2 line n i
    shift 2
    for ((i = 0; i < 60; i++)); do
        LAB_LAST_REPLIES=$(lab_dig_status "$@")
        n=0
        while IFS= read -r line; do
            [[ $line =~ $expect ]] && n=$((n + 1))
        done <<<"$LAB_LAST_REPLIES"
        [ "$n" -eq "$count" ] && return 0
        lab_sleep 0.05
    done
    return 1
}

# lab_wait_answers DESC EXPECT COUNT KDIG-ARGS...: lab_poll_answers, failing naming DESC.
lab_wait_answers() {
    local desc=$1
    shift
    lab_poll_answers "$@" ||
        lab_die "$desc did not answer as expected (wanted $2 x /$1/, got '${LAB_LAST_REPLIES//$'\n'/; }'; kdig ${*:3})"
}

# lab_wait_answer DESC EXPECT KDIG-ARGS...: lab_wait_answers for a single query.
lab_wait_answer() {
    local desc=$1 expect=$2
    shift 2
    lab_wait_answers "$desc" "$expect" 1 "$@"
}

# lab_render TEMPLATE OUTPUT NAME=VALUE...: copies TEMPLATE to OUTPUT replacing each @NAME@ by
# VALUE (bash only: every process costs time in `lab up`).
lab_render() {
    local template=$1 output=$2 text pair
    shift 2
    IFS= read -r -d '' text <"$template" || true
    for pair in "$@"; do
        text=${text//@${pair%%=*}@/${pair#*=}}
    done
    printf '%s' "$text" >"$output"
}

# lab_wait_jobs WHAT PID...: waits for background jobs; fails naming WHAT when one failed
# (the job has printed its own error).
lab_wait_jobs() {
    local what=$1 pid failed=0
    shift
    for pid in "$@"; do wait "$pid" || failed=1; done
    [ $failed -eq 0 ] || lab_die "$what failed"
}

# lab_stages: the lines of tests/lab/services (comments dropped): one stage a line, the services
# of a stage start together, a stage starts when the one before it is ready.
lab_stages() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        # Unquoted on purpose: collapses the blanks between the service names.
        # shellcheck disable=SC2086
        [[ $line == *[![:space:]]* ]] && echo $line
    done <"$LAB_HOME/services"
    return 0
}

# lab_services: every service, in start order.
lab_services() { local stage; for stage in $(lab_stages); do echo "$stage"; done; }

# lab_service_run SERVICE FUNCTION: sources SERVICE/service.sh in a subshell and calls FUNCTION
# when the service defines it.
lab_service_run() {
    (
        # shellcheck source=/dev/null
        source "$LAB_HOME/$1/service.sh"
        if declare -F "$2" >/dev/null; then "$2"; fi
    )
}
