"""Real parts that the tests (tests/) and the benchmarks (benchmarks/) share.

A benchmark is a script, not a test: it must never import from tests/ (an
import contract in .importlinter keeps it so), and the tests must not carry a
second copy of what a benchmark needs. What both use lives here:

* `net`: free loopback ports, urlopen without environment proxies;
* `prometheus`: Debian's Prometheus scraping static, Kubernetes-labelled targets;
* `traffic`: a load generator splitting requests by canary weight, a weight watcher;
* `kube`: a Kubernetes API client for a kubeconfig, the project's CRDs installed;
* `manifests`: a ModelDeployment manifest;
* `node`: the node tests' probe image (a docker-archive built with Go).

Nothing here uses pytest: a missing part raises `SetupError` saying how to
get it, which a test reports as its failure and a benchmark prints.
"""


class SetupError(RuntimeError):
    """A part the caller needs is missing or did not start; the message says how to fix it."""
