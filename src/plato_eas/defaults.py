"""Every default of plato_eas, in one place: code that needs a default imports it from here,
so that a limit is set once and documented once."""

# Control-flow expansion (chains.expand, checked at submission where the count is literal).
MAX_LOOP_ITERATIONS = 100_000  # children one for loop may register (setting max_loop_iterations)
MAX_DO_WHILE_ITERATIONS = 1_000  # iterations of a do-while loop without its own max_iterations
