"""pytest plugin, loaded first: a fake AWS environment for every test, set before anything imports boto3,
Powertools or a handler. Never real credentials, never a real endpoint; the handlers' typed configuration
(read once at import, as at a Lambda cold start) finds what template.yaml would set.
"""

import os

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "TABLE_NAME": "smtp-preflight-checks-test",
    "ALLOWED_ORIGINS": "https://app.example.com,https://admin.example.com",
    "EVENT_BUS_NAME": "saas-bus-test",
    "SECRETS_PREFIX": "smtp-preflight/",
    "CHECK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/smtp-preflight-settings-events-test",
    "CHECK_KEY_ID": "alias/smtp-preflight-checks-test",
    "POWERTOOLS_SERVICE_NAME": "smtp-preflight",
    "POWERTOOLS_METRICS_NAMESPACE": "SmtpPreflight",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
UNSET = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_PROFILE",
    "SMTP_PREFLIGHT_ALLOWED_NETWORKS",
    "SMTP_PREFLIGHT_ALLOWED_PORTS",
    "SMTP_PREFLIGHT_CA_FILE",
    "SMTP_PREFLIGHT_DNS_SERVERS",
)

os.environ.update(FAKE_ENVIRONMENT)
for name in UNSET:
    os.environ.pop(name, None)
