"""Webhooks: the event handler (deliveries written with the change), the sender, the target
guard and the services over the endpoints."""
