"""The event worker: its records and their outcomes, the settings-event contract, versions, handlers."""
