"""The resync pass (resync.py): children relisted first, then every ModelDeployment queued."""

from __future__ import annotations

from modelops_operator.adapters.kube import KubeError
from modelops_operator.runtime.queue import WorkQueue
from modelops_operator.runtime.resync import Resyncer


class Listing:
    """The one adapter call the resync makes, answering from a fixed list."""

    def __init__(self, names: list[str], calls: list[str], fail: bool = False) -> None:
        self.names, self.calls, self.fail = names, calls, fail

    def list_model_deployments(self, namespace):
        self.calls.append("list")
        if self.fail:
            raise KubeError(0, "API server unreachable")
        return [{"metadata": {"namespace": "ml", "name": n}} for n in self.names]


def test_a_pass_relists_the_children_before_queueing_every_object():
    calls: list[str] = []
    queue = WorkQueue()
    resync = Resyncer(
        Listing(["a", "b"], calls),
        queue,
        namespaces=("ml",),
        period=60,
        before_pass=lambda: calls.append("relist"),
    )
    assert resync.pass_once() == 2
    assert calls == ["relist", "list"]
    assert len(queue) == 2


def test_a_failing_relist_does_not_stop_the_pass():
    calls: list[str] = []

    def broken() -> None:
        calls.append("relist")
        raise KubeError(0, "API server unreachable")

    queue = WorkQueue()
    resync = Resyncer(
        Listing(["a"], calls), queue, namespaces=("ml",), period=60, before_pass=broken
    )
    assert resync.pass_once() == 1
    assert calls == ["relist", "list"]
