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
ci_docker_sock=unix://$ci_docker_dir/docker.sock
ci_docker_joined=  # this run took part in our daemon (it may have started it): it leaves at its end
ci_docker_start_fd=  # the `start` lock while this run holds it
ci_docker_holder=  # the flock(1) holding this run's share of `use`, and its command's pid
ci_docker_holder_child=

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

ci_detached() {  # exec "$@" keeping only descriptors 0-2: a daemon must not hold the caller's pipes
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec "$@"
}

ci_docker_is_last() {  # no other run holds a share of `use` (call with `start` held)
    local use last=1
    { exec {use}>>"$ci_docker_dir/use"; } 2>/dev/null || return 1
    flock -n -x "$use" || last=
    exec {use}>&-
    [ -n "$last" ]
}

ci_docker_start() {
    if command -v docker >/dev/null && ! ci_docker_engine; then
        ci_docker_problem "the docker on PATH is not Docker Engine's client ($(docker --version 2>/dev/null | head -n 1))"
        return 0
    fi
    if [ "${DOCKER_HOST:-}" != "$ci_docker_sock" ]; then  # ours is joined below, never used as is
        ci_docker_answers && return 0
    fi
    if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "$ci_docker_sock" ]; then
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
    local tool
    for tool in flock setsid awk; do
        if ! command -v "$tool" >/dev/null; then
            ci_docker_problem "$tool is missing (util-linux, mawk)"
            return 0
        fi
    done
    if ! { mkdir -p "$ci_docker_dir" && exec {ci_docker_start_fd}>>"$ci_docker_dir/start"; } 2>/dev/null; then
        ci_docker_start_fd=
        ci_docker_problem "$ci_docker_dir cannot be written"
        return 0
    fi
    if ! flock -w 300 -x "$ci_docker_start_fd"; then
        exec {ci_docker_start_fd}>&-
        ci_docker_start_fd=
        ci_docker_problem "another run held $ci_docker_dir/start for 5 minutes"
        return 0
    fi
    ci_docker_joined=1
    export DOCKER_HOST="$ci_docker_sock"
    if ! ci_docker_answers; then
        if ci_docker_pid >/dev/null && ! ci_docker_is_last; then
            # silent, but other runs use it (busy, not dead): never killed from under them
            for _ in $(seq 120); do ci_docker_answers && break; sleep 0.5; done
            ci_docker_answers || ci_docker_problem "our dockerd, used by another run, does not answer"
        else
            ci_docker_kill  # ours but silent, and nobody uses it: left by a run that was killed
            rm -f "$ci_docker_pidfile"  # dockerd refuses a pid file whose process (a zombie too) is there
            echo "starting dockerd ($DOCKER_HOST, log in $ci_docker_dir/dockerd.log)"
            # a session of its own (a signal to this run's group never reaches a daemon others use),
            # and none of this run's descriptors (a caller waiting for its pipe's end would wait for it)
            (ci_detached setsid dockerd --host "$DOCKER_HOST" --data-root /var/lib/container-supervisor-ci/docker \
                --exec-root "$ci_docker_dir/exec" --pidfile "$ci_docker_pidfile") \
                </dev/null >"$ci_docker_dir/dockerd.log" 2>&1 &
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
    fi
    # this run's share of `use`, until it ends: flock(1) holds it (-o: its command does not), and
    # starts that command, which says its pid, only once it has it
    local ready="$ci_docker_dir/holder.$$"
    rm -f "$ready"
    (ci_detached flock -o -s "$ci_docker_dir/use" sh -c \
        'echo $$ > "$2"; while s=$(awk "{print \$3}" "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; do sleep 1; done' \
        holder $$ "$ready") </dev/null >/dev/null 2>&1 &
    ci_docker_holder=$!
    for _ in $(seq 100); do
        [ -s "$ready" ] && break
        sleep 0.1
    done
    ci_docker_holder_child=$(cat "$ready" 2>/dev/null || true)
    rm -f "$ready"
    exec {ci_docker_start_fd}>&-
    ci_docker_start_fd=
}

ci_docker_stop() {  # the EXIT trap: nothing here may fail, or change the exit status
    [ -n "$ci_docker_joined" ] || return 0
    if [ -n "$ci_docker_holder_child" ]; then kill "$ci_docker_holder_child" 2>/dev/null || true; fi
    if [ -n "$ci_docker_holder" ]; then
        kill "$ci_docker_holder" 2>/dev/null || true
        wait "$ci_docker_holder" 2>/dev/null || true
    fi
    if [ -z "$ci_docker_start_fd" ]; then  # else still held: a signal came while joining
        { exec {ci_docker_start_fd}>>"$ci_docker_dir/start"; } 2>/dev/null || return 0
        flock -w 300 -x "$ci_docker_start_fd" || { exec {ci_docker_start_fd}>&-; return 0; }
    fi
    if ci_docker_is_last; then  # no run joins while we look, and no other run uses it
        ci_docker_kill || true
    fi
    exec {ci_docker_start_fd}>&-
    return 0
}
