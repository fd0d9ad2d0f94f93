"""One module per command of the command line, below ``cli`` which parses and dispatches."""
