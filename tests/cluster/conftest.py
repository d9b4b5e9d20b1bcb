"""The cluster's fixtures: one cluster for the session, booted for the first test that asks
for it (about 20 s), and the tests' own client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster import Cluster, ClusterBroker


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with Cluster() as cluster:
        yield cluster


@pytest.fixture
def cluster_broker(cluster) -> Iterator[ClusterBroker]:
    """Its channel confirms every publish: what a test sent, the cluster has."""
    with ClusterBroker(cluster) as client:
        yield client


@pytest.fixture
def restored(cluster, cluster_broker) -> Iterator[Cluster]:
    """The cluster, whose nodes failed by the test are repaired at its end, even when it fails:
    the next test has three (torn down before cluster_broker, which cleans up)."""
    yield cluster
    cluster.restore()
