"""`python -m tests.gate_worker`: the product's worker entry point with the test-only gate provider registered."""
from app.providers import registry
from jobs import worker
from tests.gate import GateProvider

if __name__ == "__main__":
    registry.PROVIDERS[GateProvider.name] = GateProvider()  # forked work horses inherit it
    worker.main()
