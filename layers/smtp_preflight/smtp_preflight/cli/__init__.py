"""The `smtp-preflight` command line.

- `main.py`: the command and `check`: check settings and explain the result in the reader's language.
- `suggest.py`: `suggest EMAIL`, autodiscovery of the settings to type.
- `errors.py`: how every command ends when it cannot do its job (exit status, one line or one JSON error).
"""
