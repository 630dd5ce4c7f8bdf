"""The admin console: queues and usage, users, workspaces and credits, the ledger and jobs."""
