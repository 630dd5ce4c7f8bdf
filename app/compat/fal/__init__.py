"""The fal-style queue (also pipelet's image API): submit, status, stream, cancel and result under /fal/queue/."""
