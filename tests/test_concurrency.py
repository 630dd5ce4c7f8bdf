"""Sixteen API clients and two browsers at once, against gunicorn and two RQ workers on the embedded SQLite."""
from pathlib import Path
from pprint import pformat

from app.credits import service as credits
from tests import load


def test_concurrent_clients_get_promised_answers_and_every_generation_finishes(app, config):
    accounts = load.prepare_accounts(workspaces=4, clients_per_workspace=4)
    with load.running_stagecraft(config, workers=2) as base_url:
        run = load.run_load(base_url, accounts, api_clients=16, page_clients=2, requests_per_client=25)
        load.drain()
    summary = load.summarize(run, log_dir=Path(config["VAR_DIR"]))
    generations = summary["generations"]

    observed = {
        "5xx other than 503": summary["5xx"] - summary["503"],
        "503 without Retry-After": summary["503_without_retry_after"],
        "unanswered within 20 s": summary["unanswered"],
        "unexpected statuses": summary["unexpected"],
        "accepted generations not finished": generations["accepted"] - _terminal(generations),
    }
    assert observed == {
        "5xx other than 503": 0,
        "503 without Retry-After": 0,
        "unanswered within 20 s": 0,
        "unexpected statuses": {},
        "accepted generations not finished": 0,
    }, pformat(summary, sort_dicts=False)
    ledgers = {ws: (credits.balance(ws), credits.ledger_total(ws)) for ws in accounts.workspace_ids}
    assert all(balance == total for balance, total in ledgers.values()), f"balance, ledger sum: {ledgers}"


def _terminal(generations: dict) -> int:
    return sum(generations.get(status, 0) for status in ("succeeded", "failed", "canceled"))
