"""Build tools, run by the Makefile and never part of a Lambda nor of `make run`: `make openapi` writes
docs/openapi.json from the handler's routes (`tools.openapi`), `make build` checks the artifacts SAM built
(`tools.build_check`)."""
