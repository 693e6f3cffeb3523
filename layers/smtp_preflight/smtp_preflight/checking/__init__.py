"""One check from settings to stored report: the path every entry point (CLI, API, worker) takes."""
