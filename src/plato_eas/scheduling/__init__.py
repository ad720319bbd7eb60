"""Turning ready tasks into queued attempts: the scheduler's passes and daemon, and the
embedded runner that drives a scheduler and local workers on one machine."""
