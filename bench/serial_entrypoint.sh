#!/bin/sh
# The entrypoint script the supervisor replaces, as Django images commonly ship it: every step in
# turn, and the first failure ends the container. It does the same work as the supervisor's
# configuration in bench/time_to_serving.py (config check, both Django checks, both waits,
# migrate), which times the two. Run from the Django project's directory, the app's venv on PATH.
set -eu
: "${SECRET_KEY:?SECRET_KEY is not set}" "${DATABASE_URL:?DATABASE_URL is not set}" "${REDIS_URL:?REDIS_URL is not set}"
python manage.py check
until pg_isready -q -d "$DATABASE_URL"; do sleep 0.1; done
until [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]; do sleep 0.1; done
python manage.py check --deploy --fail-level WARNING
python manage.py migrate --no-input
exec gunicorn --bind "127.0.0.1:${PORT:?}" --workers 2 --worker-tmp-dir /dev/shm mysite.wsgi
