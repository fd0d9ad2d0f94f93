"""An app that leaves COUNT orphans, all of which exit at once when the file GO appears.

Usage: orphans.py GO COUNT FORKED  (FORKED is created once every orphan exists). Each orphan's
parent exits at once, so as PID 1 the supervisor inherits them all; they block on a pipe whose
write end the app closes when GO appears, so they end together, without burning CPU meanwhile.
"""

import os
import sys
import time

go, count, forked = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r, w = os.pipe()
for _ in range(count):
    if os.fork() == 0:
        if os.fork() == 0:
            os.close(w)
            os.read(r, 1)  # until the app closes the write end: all at once
            os._exit(0)
        os._exit(0)
os.close(r)
open(forked, "w").close()
while not os.path.exists(go):
    time.sleep(0.01)  # pacing: the poll interval for the caller's go-ahead
os.close(w)
time.sleep(300)  # pacing: an app that runs until it is stopped
