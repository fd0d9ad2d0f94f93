"""The health endpoints: ``routes`` decides what to answer, ``server`` speaks HTTP/1.1 (h11)."""
