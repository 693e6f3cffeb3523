"""smtp-preflight: check a customer's SMTP settings from the cloud before anyone relies on them.

This package is the shared Lambda layer. Its pure parts (models, providers, rules, guard, handshake,
diagnosis, messages) import neither boto3 nor Powertools, so they run and test without AWS.
"""

__version__ = "0.1.0"
