"""Process plumbing: threads per job, parallel sweeps, DDP ranks, atomic run-directory writes."""
