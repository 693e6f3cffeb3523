"""`make run`: the emulator of template.yaml's functions on one machine: moto (DynamoDB, EventBridge, SQS,
Secrets Manager, KMS), an API Gateway in front of the real handlers (`gateway`, `http_server`), their
execution environments (`functions`), the event path with a poller that plays Lambda's SQS event source
(`event_path`, `sqs_source`), the request log, the banner, and the tools to use it (`token`,
`publish_event`, `invoke`). The build tools live in `tools/`, the demo SMTP server in `fixtures/`.
Not part of any Lambda."""
