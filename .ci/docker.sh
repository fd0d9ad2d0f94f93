# Sourced by .ci/run: a Docker daemon for the Docker half of the container tests.
#
# A daemon that answers (DOCKER_HOST, else the default socket) is used as it is and never stopped.
# Else one of ours: Debian's docker.io (installed when no dockerd is), with its own socket, data
# root and pid file, in a session of its own. Runs on one machine share ours through two locks:
# `start`, held only while a run joins (starting the daemon if it is silent) or leaves, and `use`,
# held shared by every run that uses it until that run ends. A run that leaves and can take `use`
# exclusively is the last one: it stops the daemon. The shared lock is held by a process of its
# own, which ends with the run (also when the run was killed and not yet reaped), so that nothing
# the run starts inherits it. What goes wrong is put in CI_DOCKER_PROBLEM, which the tests give as
# their skip reason: CI goes on, and its exit status is the tests'.

ci_docker_dir=/run/container-supervisor-ci
ci_docker_pidfile=$ci_docker_dir/dockerd.pid
ci_docker_holder=  # the process holding this run's shared `use` lock

ci_docker_problem() {
    export CI_DOCKER_PROBLEM="$1"
    echo "$1: the Docker half of the container tests is skipped"
}

ci_docker_engine() { [[ "$(docker --version 2>/dev/null)" == "Docker version "* ]]; }  # not podman-docker
ci_docker_answers() { command -v docker >/dev/null && timeout 20 docker version >/dev/null 2>&1; }

ci_alive() {  # a process that has not ended (a zombie has)
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

ci_docker_pid() {  # our dockerd's pid, from its pid file, while it lives
    local pid
    pid=$(cat "$ci_docker_pidfile" 2>/dev/null) || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && ci_alive "$pid" && echo "$pid"
}

ci_docker_kill() {  # our dockerd: SIGTERM, SIGKILL after 30 s
    local pid
    pid=$(ci_docker_pid) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 60); do ci_alive "$pid" || return 0; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
}

ci_docker_start() {
    if command -v docker >/dev/null && ! ci_docker_engine; then
        ci_docker_problem "the docker on PATH is not Docker Engine's client ($(docker --version 2>/dev/null | head -n 1))"
        return 0
    fi
    ci_docker_answers && return 0
    if [ -n "${DOCKER_HOST:-}" ]; then
        echo "DOCKER_HOST=$DOCKER_HOST does not answer"
        if (unset DOCKER_HOST && ci_docker_answers); then
            echo "using the Docker daemon on the default socket"
            unset DOCKER_HOST
            return 0
        fi
    fi
    if ! command -v dockerd >/dev/null; then
        echo "installing from Debian: docker.io"
        if ! { { [ -n "$apt_updated" ] || apt-get update -q; } \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io; }; then
            ci_docker_problem "docker.io could not be installed"
            return 0
        fi
        if ! ci_docker_engine; then
            ci_docker_problem "no Docker Engine client on PATH after installing docker.io"
            return 0
        fi
        ci_docker_answers && return 0  # where the package's own service started
    fi
    local start
    if ! { mkdir -p "$ci_docker_dir" && exec {start}>>"$ci_docker_dir/start"; } 2>/dev/null; then
        ci_docker_problem "$ci_docker_dir cannot be written"
        return 0
    fi
    if ! flock -w 300 -x "$start"; then
        exec {start}>&-
        ci_docker_problem "another run held $ci_docker_dir/start for 5 minutes"
        return 0
    fi
    export DOCKER_HOST="unix://$ci_docker_dir/docker.sock"
    if ! ci_docker_answers; then
        ci_docker_kill  # ours but silent: left by a run that was killed
        rm -f "$ci_docker_pidfile"  # dockerd refuses a pid file whose process (a zombie too) is there
        echo "starting dockerd ($DOCKER_HOST, log in $ci_docker_dir/dockerd.log)"
        # a session of its own: a signal to this run's process group never reaches a daemon others use
        setsid dockerd --host "$DOCKER_HOST" --data-root /var/lib/container-supervisor-ci/docker \
            --exec-root "$ci_docker_dir/exec" --pidfile "$ci_docker_pidfile" \
            </dev/null >"$ci_docker_dir/dockerd.log" 2>&1 {start}>&- &
        local started=$!
        for _ in $(seq 120); do
            ci_docker_answers && break
            ci_alive "$started" || ci_docker_pid >/dev/null || break
            sleep 0.5
        done
        if ! ci_docker_answers; then
            ci_docker_problem "dockerd did not answer ($ci_docker_dir/dockerd.log ends: $(tail -n 1 "$ci_docker_dir/dockerd.log" 2>/dev/null))"
        fi
    fi
    # this run's share of `use`, until it ends: flock(1) holds it (-o: its command does not), and
    # starts that command only once it has it
    flock -o -s "$ci_docker_dir/use" sh -c \
        'while s=$(awk "{print \$3}" "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; do sleep 1; done' \
        holder $$ </dev/null >/dev/null 2>&1 {start}>&- &
    ci_docker_holder=$!
    for _ in $(seq 100); do
        pgrep -P "$ci_docker_holder" >/dev/null && break
        sleep 0.1
    done
    exec {start}>&-
}

ci_docker_stop() {  # the EXIT trap: nothing here may fail, or change the exit status
    [ -n "$ci_docker_holder" ] || return 0
    pkill -P "$ci_docker_holder" 2>/dev/null || true
    kill "$ci_docker_holder" 2>/dev/null || true
    wait "$ci_docker_holder" 2>/dev/null || true
    local start use
    { exec {start}>>"$ci_docker_dir/start"; } 2>/dev/null || return 0
    if flock -w 300 -x "$start"; then  # no run joins while we look
        if { exec {use}>>"$ci_docker_dir/use"; } 2>/dev/null; then
            if flock -n -x "$use"; then  # no other run uses it: the last one out stops it
                ci_docker_kill || true
            fi
            exec {use}>&-
        fi
    fi
    exec {start}>&-
    return 0
}
