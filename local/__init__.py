"""Running the service on one machine (`make run`): moto (DynamoDB, EventBridge, SQS, Secrets Manager), a
demo SMTP server, an HTTP server that turns requests into API Gateway v2 events for the real handler, and
the event path with a poller that plays Lambda's SQS event source. Not part of any Lambda."""
