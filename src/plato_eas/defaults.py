"""Every default of plato_eas, in one place: code that needs a default imports it from here,
so that a limit is set once and documented once."""

# Control-flow expansion (chains.expand, checked at submission where the count is literal).
MAX_LOOP_ITERATIONS = 100_000  # children one for loop may register (setting max_loop_iterations)
MAX_DO_WHILE_ITERATIONS = 1_000  # iterations of a do-while loop without its own max_iterations

# Control-flow expansion in the task runner (worker.child), unless the task's ``time_limit``
# or its type's in the registry says otherwise.
EXPANSION_TIME_LIMIT = 60.0  # seconds
EXPANSION_MEMORY_MB = 1024  # MiB of address space an expansion may add to its task runner

# Stopping: seconds a stopping `eas run` gives its worker processes to return their attempts
# to the queue before it kills them.
STOP_GRACE = 5.0
