"""Range-based set reconciliation of event ids: the session, its index, its bytes."""

from protocol.reconcile.codec import MIN_MESSAGE_BYTES
from protocol.reconcile.index import ItemIndex
from protocol.reconcile.session import Reconciler, ReconcileResult

__all__ = ["MIN_MESSAGE_BYTES", "ItemIndex", "ReconcileResult", "Reconciler"]
