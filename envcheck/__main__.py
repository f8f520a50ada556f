import sys

try:
    from envcheck.cli import entry
except KeyboardInterrupt:  # Ctrl-C while Python is still importing: same exit as during a command
    sys.stderr.write("envcheck: interrupted\n")
    sys.exit(130)

sys.exit(entry())
