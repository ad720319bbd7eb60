"""Backend tests against real MariaDB and RabbitMQ servers (a package, so that its conftest
never shadows tests/pipeline/conftest.py when both folders run in one session)."""
