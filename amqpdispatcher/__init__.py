"""amqp-dispatcher: a daemon that runs Python consumer classes against RabbitMQ."""
