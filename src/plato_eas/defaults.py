"""Every default of plato_eas, in one place: code that needs a default imports it from here,
so that a limit is set once and documented once."""

# Control-flow expansion (chains.expand, checked at submission where the count is literal).
MAX_LOOP_ITERATIONS = 100_000  # children one for loop may register (setting max_loop_iterations)
MAX_DO_WHILE_ITERATIONS = 1_000  # iterations of a do-while loop without its own max_iterations

# Control-flow expansion in the task runner (worker.child), unless the task's ``time_limit``
# or its type's in the registry says otherwise.
EXPANSION_TIME_LIMIT = 60.0  # seconds
# tasks a loop's bodies may hold in all for the loop to expand them with itself (one attempt
# instead of one per body); a larger loop's bodies each expand in an attempt of their own
LOOP_BODY_TASKS = 1_000
EXPANSION_MEMORY_MB = 1024  # MiB of address space an expansion may add to its task runner

# Stopping: seconds a stopping `eas run` gives its worker processes to return their attempts
# to the queue before it kills them.
STOP_GRACE = 5.0

# Attempts (settings max_heartbeat_age, retry_limit).
MAX_HEARTBEAT_AGE = 300.0  # seconds without a sign of life before a running attempt is stalled
RETRY_LIMIT = 2  # the default retry policy's max_retries (for stalled attempts only)
HEARTBEATS_PER_AGE = 4  # a worker beats this often within max_heartbeat_age ...
HEARTBEAT_INTERVAL_RANGE = (0.2, 30.0)  # ... but never more often or more seldom (seconds)

# Scheduling: the daemon, and the embedded runner (`eas run`, plato.eas.local_run).
SCHEDULER_INTERVAL = 2.0  # seconds between the scheduler daemon's passes while idle
FULL_PASS_INTERVAL = 600.0  # seconds between its full passes (every task checked, not the marked)
LOCAL_WORKERS = 2  # worker processes of an embedded run
LOCAL_RUN_TIMEOUT = 3600.0  # seconds an embedded run waits for its job (`eas run`: no limit)

# Queues.
SHOW_IDS = 20  # a queue report lists the attempt ids of a queue holding at most this many
AMQP_HEARTBEAT = 600  # AMQP heartbeat timeout (seconds) a client asks the broker for
AMQP_CONNECT_PATIENCE = 15.0  # seconds a one-off action waits for an unreachable broker
AMQP_RECONNECT_PATIENCE = 300.0  # ... and once it has been connected

# Kubernetes planning (plato.eas.worker_plan_info, the eas_workers and eas_scale roles).
SYSTEM_FRACTION = 0.25  # largest fraction of a node one worker pod may request
MIN_REPLICAS = 0  # replicas of a worker container when scaling, unless bounded per container
MAX_REPLICAS = 4
TASKS_PER_REPLICA = 10  # waiting messages one more replica is wanted for

# Retries of failed attempts (tasks.retries): a task type without a retry policy in the
# registry retries stalled attempts only, at most `retry_limit` times (a setting), at once.
RETRY_ON = ("stalled",)  # which failures the default policy retries
RETRY_BACKOFF = 0.0  # seconds before the first retry
RETRY_BACKOFF_FACTOR = 2.0  # each further retry waits this many times longer
MAX_RETRY_BACKOFF = 3600.0  # seconds: no retry waits longer
MAX_RETRIES = 100  # the most retries a policy may ask for

# Priorities (chain field `priority`, submit option): higher runs first; the range maps onto
# RabbitMQ's message priorities 0 .. PRIORITY_MAX - PRIORITY_MIN (`x-max-priority`).
PRIORITY_MIN, PRIORITY_MAX, PRIORITY_DEFAULT = -5, 5, 0

# Cancel: how often a worker checks that the attempt it runs was not cancelled meanwhile.
CANCEL_CHECK_INTERVAL = 2.0  # seconds
