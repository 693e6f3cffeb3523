"""Words: the message catalogues (`locales/<lang>.json`) and rendering a code in a language."""
