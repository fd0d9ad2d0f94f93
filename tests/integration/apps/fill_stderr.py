"""An app that fills its stderr at once (a pipe nobody reads is then full) and stays."""

import sys
import time

sys.stderr.write("x" * 200_000 + "\n")  # more than a pipe holds: blocks here while nobody reads
sys.stderr.flush()
time.sleep(300)  # pacing: an app that runs until it is stopped
