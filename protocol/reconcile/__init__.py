"""Range-based set reconciliation of event ids: the session, its index, its bytes."""

from protocol.reconcile.index import ItemIndex
from protocol.reconcile.session import Reconciler, ReconcileResult

__all__ = ["ItemIndex", "ReconcileResult", "Reconciler"]
