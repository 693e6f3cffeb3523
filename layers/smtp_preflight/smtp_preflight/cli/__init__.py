"""The `smtp-preflight` command line (`main.py`: `check`; `suggest.py`: `suggest`; `errors.py`: how every
command ends when it cannot do its job)."""
