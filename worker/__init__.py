"""RQ worker shell: runs facestyle.jobs on a real Redis."""
