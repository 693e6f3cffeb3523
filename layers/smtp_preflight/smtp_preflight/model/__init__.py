"""The shared model every flow speaks: settings, findings and their codes, reports, ids, progress."""
