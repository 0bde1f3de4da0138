"""Background processes: the RQ worker, the scheduler and the jobs they run."""
