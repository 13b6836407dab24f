"""The controller shim: controller events in, job and step records out (tracker issue 5).

``events`` defines the versioned event schema (JSON), ``fold`` turns a job's events into its
record values, ``apply`` writes batches of events transactionally and idempotently, and
``jobcomp`` turns the environment of Slurm's ``jobcomp/script`` into events. See
docs/events.md.
"""
