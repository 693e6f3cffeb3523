"""Words: the message catalogues, one JSON file per language in `locales/`.

- `i18n.py`: reading the catalogues and choosing a language (Accept-Language, POSIX locale).
- `messages.py`: a finding code and its params rendered in a language.
"""
