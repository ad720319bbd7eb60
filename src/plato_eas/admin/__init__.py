"""Administrative actions on the task database and the queues: create or drop the schema and
load the registry, declare and empty the queues, save and restore the database."""
