"""Running the service on one machine (`make run`): moto DynamoDB, a demo SMTP server, and an HTTP
server that turns requests into API Gateway v2 events for the real handler. Not part of any Lambda."""
