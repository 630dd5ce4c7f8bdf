"""Work that follows a change only once it is durable: queueing its jobs, telling pages it happened.

Services register an action with ``after_commit``; the session runs it when the transaction
commits and forgets it on rollback. Actions are compared by value, so asking twice runs it once.
"""
import sqlalchemy as sa

from app.extensions import db

ACTIONS = "stagecraft_after_commit"


def after_commit(action) -> None:
    """Run action() once the current session commits; never if it rolls back."""
    actions = db.session.info.setdefault(ACTIONS, [])
    if action not in actions:
        actions.append(action)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _run_after_commit(session) -> None:
    for action in session.info.pop(ACTIONS, []):
        action()


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop(ACTIONS, None)
