"""The `smtp-preflight` command line (`main.py`: `check`; `suggest.py`: `suggest`)."""
