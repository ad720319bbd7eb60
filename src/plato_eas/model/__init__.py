"""The task database's model: the schema (prototype tables plus ours), the states of tasks and
attempts, metadata items, and what a worker reads to run one attempt."""
