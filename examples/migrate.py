"""Stands in for ``manage.py migrate``: creates the example's SQLite database if it is missing.

The example's ``cmd:`` gate runs it while the ``sqlite:`` gate waits for the file: the two gates
run at once, and the SQLite gate passes as soon as this has run.
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
