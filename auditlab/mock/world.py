"""The synthetic world the generator's events happen in: people, admins and service accounts, Linux and Windows
hosts, AWS accounts, Kubernetes clusters and a GCP project, with one identity per person across all of them.

alice is ``alice`` (uid 1001) on Linux, ``CORP\\alice`` (one SID) on Windows, the IAM user ``alice`` with her own
access key in AWS, and ``alice@example.com`` in Kubernetes and GCP, so that stitching can follow her everywhere.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from auditlab._errors import InvalidArgument

FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
         "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne")
SERVICES = ("backup", "deploy", "monitor", "etl", "ci-runner", "reports")
DOMAIN = "CORP"
EMAIL_DOMAIN = "example.com"


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or service account, with its identity in every source.

    ``role`` is ``user``, ``admin`` or ``service``; ``workday`` the UTC hours (start, end) a person works; ``rate``
    the actions per active hour the baseline draws.
    """

    key: str
    role: str
    uid: int
    sid: str
    email: str
    aws_user: str
    aws_key: str
    aws_user_id: str
    ip: str
    workday: tuple[int, int]
    rate: float

    @property
    def domain_user(self) -> str:
        r"""``CORP\alice``."""
        return f"{DOMAIN}\\{self.key}"

    @property
    def k8s_user(self) -> str:
        """The Kubernetes user name: the email of a person, the service account of a service."""
        if self.role == "service":
            return f"system:serviceaccount:apps:{self.key}"
        return self.email

    @property
    def home(self) -> str:
        """The Linux home directory."""
        return f"/home/{self.key}"


@dataclass(frozen=True, slots=True)
class Host:
    """A Linux or Windows machine."""

    name: str
    os: str
    ip: str

    @property
    def fqdn(self) -> str:
        """The name with the domain, as Windows writes ``Computer``."""
        return f"{self.name}.{DOMAIN.lower()}.{EMAIL_DOMAIN}"


@dataclass(frozen=True, slots=True)
class Account:
    """An AWS account: id, alias, home region, and the roles people assume in it."""

    id: str
    alias: str
    region: str
    roles: tuple[str, ...]
    buckets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    """A Kubernetes cluster: name, API server address and namespaces."""

    name: str
    server_ip: str
    namespaces: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class World:
    """Everything the events of one story refer to. Build it with :func:`world`."""

    seed: int
    actors: tuple[Actor, ...]
    hosts: tuple[Host, ...]
    accounts: tuple[Account, ...]
    clusters: tuple[Cluster, ...]
    project: str

    def actor(self, key: str) -> Actor:
        """The actor called ``key``; an unknown key is an error listing the actors."""
        for actor in self.actors:
            if actor.key == key:
                return actor
        raise InvalidArgument(f"actor: no actor {key!r} in this world; actors: {', '.join(a.key for a in self.actors)}")

    def people(self) -> list[Actor]:
        """The people (users and admins), not the service accounts."""
        return [a for a in self.actors if a.role != "service"]

    def admins(self) -> list[Actor]:
        """The admins."""
        return [a for a in self.actors if a.role == "admin"]

    def services(self) -> list[Actor]:
        """The service accounts."""
        return [a for a in self.actors if a.role == "service"]

    def linux_hosts(self) -> list[Host]:
        """The Linux hosts."""
        return [h for h in self.hosts if h.os == "linux"]

    def windows_hosts(self) -> list[Host]:
        """The Windows hosts (the first is the domain controller)."""
        return [h for h in self.hosts if h.os == "windows"]


def stable_int(*parts: object) -> int:
    """A 64-bit number from ``parts`` that is the same in every process (Python's ``hash()`` of a str is not)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def world(
    seed: int = 0,
    *,
    people: int = 6,
    admins: int = 2,
    services: int = 2,
    linux_hosts: int = 2,
    windows_hosts: int = 2,
    accounts: int = 2,
    clusters: int = 1,
) -> World:
    """A world of ``people`` users, ``admins`` admins, ``services`` service accounts, hosts, AWS accounts and clusters.

    The same ``seed`` gives the same world.

    Examples:
        >>> import auditlab as al
        >>> w = al.mock.world(seed=1)
        >>> w.actors[0].key, w.actors[0].uid, w.actors[0].domain_user
        ('alice', 1001, 'CORP\\\\alice')
        >>> [h.name for h in w.hosts]
        ['web1', 'web2', 'dc1', 'ws1']
    """
    counts = {"people": people, "admins": admins, "services": services, "linux_hosts": linux_hosts,
              "windows_hosts": windows_hosts, "accounts": accounts, "clusters": clusters}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidArgument(f"{name}: expected a count >= 0, got {value!r}")
    if people + admins < 1:
        raise InvalidArgument(f"people: a world needs at least one person, got people={people}, admins={admins}")
    if people + admins > len(FIRST):
        raise InvalidArgument(f"people: at most {len(FIRST)} people and admins together, got {people + admins}")
    if services > len(SERVICES):
        raise InvalidArgument(f"services: at most {len(SERVICES)}, got {services}")
    rng = random.Random(seed)
    domain_sid = f"S-1-5-21-{rng.randrange(10**9, 4 * 10**9)}-{rng.randrange(10**9, 4 * 10**9)}-" \
                 f"{rng.randrange(10**9, 4 * 10**9)}"
    actors = []
    names = [*FIRST[: people + admins], *SERVICES[:services]]
    for i, key in enumerate(names):
        role = "service" if i >= people + admins else ("admin" if i >= people else "user")
        start = rng.choice((6, 7, 8, 9)) if role != "service" else 0
        actors.append(Actor(
            key=key, role=role, uid=1001 + i if role != "service" else 990 - i, sid=f"{domain_sid}-{1104 + i}",
            email=f"{key}@{EMAIL_DOMAIN}", aws_user=key,
            aws_key="AKIA" + _alnum(rng, 16), aws_user_id="AIDA" + _alnum(rng, 17),
            ip=f"10.0.{8 + i // 200}.{10 + i % 200}", workday=(start, start + 9) if role != "service" else (0, 24),
            rate=round(rng.uniform(4, 12), 2) if role != "service" else 6.0,
        ))
    hosts = [Host(f"web{i + 1}", "linux", f"10.0.1.{11 + i}") for i in range(linux_hosts)]
    hosts += [Host("dc1" if i == 0 else f"ws{i}", "windows", f"10.0.2.{11 + i}") for i in range(windows_hosts)]
    regions = ("us-east-1", "eu-west-1", "us-west-2")
    account_list = tuple(
        Account(id=str(rng.randrange(10**11, 10**12)), alias=("prod", "audit", "dev", "data")[i % 4] + (
            str(i // 4) if i >= 4 else ""), region=regions[i % len(regions)],
            roles=("ops-admin", "read-only", "deployer"), buckets=(f"corp-{i}-reports", f"corp-{i}-payroll"))
        for i in range(accounts))
    cluster_list = tuple(Cluster(f"k8s-{('prod', 'staging', 'dev')[i % 3]}{i // 3 or ''}", f"10.0.3.{10 + i}",
                                 ("default", "apps", "payments", "kube-system")) for i in range(clusters))
    return World(seed=seed, actors=tuple(actors), hosts=tuple(hosts), accounts=account_list, clusters=cluster_list,
                 project=f"corp-project-{rng.randrange(1000, 9999)}")


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))
