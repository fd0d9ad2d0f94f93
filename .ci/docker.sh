# Sourced by .ci/run: a Docker daemon for the Docker half of the container tests.
#
# A daemon that answers (DOCKER_HOST, else the default socket) is used as it is and never stopped.
# Else one of ours: Debian's docker.io (installed when no dockerd is), with its own socket, data
# root and pid file. Runs on one machine share ours: it is started under an exclusive lock, each
# run then holds a shared lock until it ends (in a process of its own, so that nothing the run
# starts inherits it), and a run that finds the lock free at its end stops the daemon. What goes
# wrong is put in CI_DOCKER_PROBLEM, which the tests give as their skip reason: CI goes on.

ci_docker_dir=/run/container-supervisor-ci
ci_docker_pidfile=$ci_docker_dir/dockerd.pid
ci_docker_ours=  # set once this run takes part in our daemon

ci_docker_problem() {
    export CI_DOCKER_PROBLEM="$1"
    echo "$1: the Docker half of the container tests is skipped"
}

ci_docker_engine() { [[ "$(docker --version 2>/dev/null)" == "Docker version "* ]]; }  # not podman-docker
ci_docker_answers() { timeout 20 docker version >/dev/null 2>&1; }

ci_alive() {  # a process that has not ended (a zombie has)
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$state" != Z ]
}

ci_docker_kill() {  # our dockerd, by its pid file: SIGTERM, SIGKILL after 30 s
    local pid
    pid=$(cat "$ci_docker_pidfile" 2>/dev/null) || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && ci_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 60); do ci_alive "$pid" || return 0; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
}

ci_docker_start() {
    if command -v docker >/dev/null; then
        if ! ci_docker_engine; then
            ci_docker_problem "the docker on PATH is not Docker Engine's client ($(docker --version 2>&1 | head -n 1))"
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
    fi
    if ! command -v dockerd >/dev/null; then
        echo "installing from Debian: docker.io"
        if ! { { [ -n "$apt_updated" ] || apt-get update -q; } \
            && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io; }; then
            ci_docker_problem "docker.io could not be installed"
            return 0
        fi
    fi
    if ! ci_docker_engine; then
        ci_docker_problem "no Docker Engine client on PATH after installing docker.io"
        return 0
    fi
    mkdir -p "$ci_docker_dir"
    local lock
    exec {lock}>"$ci_docker_dir/lock"
    if ! flock -w 300 -x "$lock"; then
        exec {lock}>&-
        ci_docker_problem "another run held $ci_docker_dir/lock for 5 minutes"
        return 0
    fi
    export DOCKER_HOST="unix://$ci_docker_dir/docker.sock"
    if ! ci_docker_answers; then
        ci_docker_kill  # ours but silent: left by a run that was killed
        rm -f "$ci_docker_pidfile"  # dockerd refuses a pid file whose process (a zombie too) is there
        echo "starting dockerd for this run ($DOCKER_HOST, log in $ci_docker_dir/dockerd.log)"
        dockerd --host "$DOCKER_HOST" --data-root /var/lib/container-supervisor-ci/docker \
            --exec-root "$ci_docker_dir/exec" --pidfile "$ci_docker_pidfile" \
            </dev/null >"$ci_docker_dir/dockerd.log" 2>&1 {lock}>&- &
        local started=$!
        for _ in $(seq 120); do
            ci_docker_answers && break
            ci_alive "$started" || break
            sleep 0.5
        done
        if ! ci_docker_answers; then
            ci_docker_problem "dockerd did not answer ($ci_docker_dir/dockerd.log ends: $(tail -n 1 "$ci_docker_dir/dockerd.log" 2>/dev/null))"
        fi
    fi
    flock -s "$lock"  # no other run stops it or starts one now
    # the shared lock for the rest of this run, held by flock(1) itself (-o: its command does not
    # inherit it), which waits on a child that ends with this shell
    flock -o -s "$ci_docker_dir/lock" tail --pid=$$ -f /dev/null </dev/null >/dev/null 2>&1 {lock}>&- &
    ci_docker_ours=$!
    for _ in $(seq 100); do  # flock starts its command once it holds the lock
        pgrep -P "$ci_docker_ours" >/dev/null && break
        sleep 0.1
    done
    exec {lock}>&-
}

ci_docker_stop() {
    [ -n "$ci_docker_ours" ] || return 0
    pkill -P "$ci_docker_ours" 2>/dev/null || true
    kill "$ci_docker_ours" 2>/dev/null || true
    wait "$ci_docker_ours" 2>/dev/null || true
    local lock
    exec {lock}>"$ci_docker_dir/lock"
    if flock -n -x "$lock"; then  # no other run uses it: the last one out stops it
        ci_docker_kill
    fi
    exec {lock}>&-
}
