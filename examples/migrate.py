"""Stands in for ``manage.py migrate``: creates the example's SQLite database if it is missing.

The example runs it as a pre-start task: once, after the ``database`` gate passed and before
the app starts, which is where a migration belongs (a gate is re-checked and retried; a
migration must run once, to its end).
"""

import os
import sqlite3
from pathlib import Path

DATABASE = os.environ.get("EXAMPLE_DATABASE", str(Path(__file__).with_name("example.db")))

with sqlite3.connect(DATABASE) as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS greeting (text TEXT NOT NULL)")
    if conn.execute("SELECT count(*) FROM greeting").fetchone()[0] == 0:
        conn.execute("INSERT INTO greeting VALUES ('hello from behind container-supervisor')")
print(f"database ready: {DATABASE}")
