"""Create or update the broker users of shared/runtime/messaging/permissions.py on a RabbitMQ node with rabbitmqctl.

    python -m deploy.rabbitmq.users apply  [--namespace xinfang] [--vhost /] [--integrator NAME ...] [--province NAME ...]
                                           [--node NODE]
                                           [--passwords-from FOLDER]
    python -m deploy.rabbitmq.users script [--namespace xinfang] [--vhost /] [--integrator NAME ...] [--province NAME ...]
    python -m deploy.rabbitmq.users uris --amqp-uri amqp://host:5672/vhost     # each service's AMQP_URI

Passwords come from the environment: AMQP_PASSWORD_<SERVICE> (AMQP_PASSWORD_INTAKE, ..._GATEWAY) and
AMQP_PASSWORD_INTEGRATOR_<NAME> (upper case, '-' as '_'). `apply` imports them as definitions (one rabbitmqctl
call, hashed passwords on its standard input: nothing secret on a command line); run it again after a password or
permission change, it is idempotent. `script` prints the same as plain rabbitmqctl commands for a node you reach
only through a shell (deploy/rabbitmq/users.sh is its output for the default namespace and vhost).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urlparse, urlunparse

from deploy.local.devsecrets import development_secret
from shared.runtime.messaging import permissions
from shared.runtime.messaging.permissions import BrokerUser

# rabbitmqctl's arguments (without the program) and its standard input -> the finished process.
Rabbitmqctl = Callable[[list[str], str | None], subprocess.CompletedProcess]


class BrokerSetupFailed(RuntimeError):
    pass


def password_variable(user: BrokerUser) -> str:
    suffix = "integrator-" + user.name.rpartition("-integrator-")[2] if user.service == "integrator" else user.service
    return "AMQP_PASSWORD_" + suffix.upper().replace("-", "_")


def passwords_from_environment(users: Iterable[BrokerUser], environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    found, missing = {}, []
    for user in users:
        value = environ.get(password_variable(user), "")
        if value:
            found[user.name] = value
        else:
            missing.append(password_variable(user))
    if missing:
        raise BrokerSetupFailed(f"set {', '.join(missing)} (the broker users' passwords)")
    return found


def generated_passwords(folder: Path, users: Iterable[BrokerUser]) -> dict[str, str]:
    """Development passwords, made once and kept under the data folder (mode 0600) like the other dev secrets."""
    return {user.name: development_secret(folder / user.name, size=24) for user in users}


def passwords_from_folder(folder: Path, users: Iterable[BrokerUser]) -> dict[str, str]:
    """The passwords `make run` generated (one file per user under the data folder)."""
    try:
        return {user.name: (folder / user.name).read_text().strip() for user in users}
    except OSError as error:
        raise BrokerSetupFailed(f"no password file: {error}") from error


def _password_hash(password: str) -> str:
    # RabbitMQ's default scheme (rabbit_password_hashing_sha256): base64(salt + sha256(salt + password)).
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(users: Iterable[BrokerUser], passwords: dict[str, str], vhost: str) -> dict:
    users = list(users)
    return {
        "users": [{"name": u.name, "password_hash": _password_hash(passwords[u.name]),
                   "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []} for u in users],
        "permissions": [{"user": u.name, "vhost": vhost, "configure": u.configure, "write": u.write,
                         "read": u.read} for u in users],
        "topic_permissions": [{"user": u.name, "vhost": vhost, "exchange": t.exchange, "write": t.write,
                               "read": t.read} for u in users for t in u.topics],
    }


def system_rabbitmqctl(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", "-q", *args], input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def apply(users: Iterable[BrokerUser], passwords: dict[str, str], vhost: str,
          rabbitmqctl: Rabbitmqctl = system_rabbitmqctl) -> None:
    """Create or update the users, their password and their permissions on `vhost` (which must exist)."""
    document = json.dumps(definitions(users, passwords, vhost))
    try:
        done = rabbitmqctl(["import_definitions"], document)  # no file: read from standard input
    except (OSError, subprocess.SubprocessError) as error:
        raise BrokerSetupFailed(f"rabbitmqctl could not run: {error!r}") from error
    if done.returncode != 0:
        raise BrokerSetupFailed(f"rabbitmqctl import_definitions failed: {(done.stderr or done.stdout).strip()}")


def delete(users: Iterable[BrokerUser], rabbitmqctl: Rabbitmqctl = system_rabbitmqctl) -> None:
    for user in users:
        rabbitmqctl(["delete_user", user.name], None)


def script(users: Iterable[BrokerUser], vhost: str, node: str | None = None) -> str:
    """A POSIX shell script of rabbitmqctl commands; it reads the passwords from the environment when it runs."""
    ctl = "rabbitmqctl -q" + (f" -n {shlex.quote(node)}" if node else "")
    q = shlex.quote
    lines = ["#!/bin/sh", "# Generated by `python -m deploy.rabbitmq.users script` from shared/runtime/messaging/permissions.py:",
             "# do not edit; regenerate. Needs the passwords in the environment (see docs/deployment.md).",
             "set -eu"]
    for user in users:
        variable = password_variable(user)
        lines += [
            "",
            f': "${{{variable}:?set {variable}}}"',
            # The password goes on standard input, never on a command line.
            f'printf "%s\\n" "${variable}" | {ctl} add_user {q(user.name)} 2>/dev/null'
            f' || printf "%s\\n" "${variable}" | {ctl} change_password {q(user.name)}',
            f"{ctl} set_permissions -p {q(vhost)} {q(user.name)} {q(user.configure)} {q(user.write)} {q(user.read)}",
            *(f"{ctl} set_topic_permissions -p {q(vhost)} {q(user.name)} {q(t.exchange)} {q(t.write)} {q(t.read)}"
              for t in user.topics),
        ]
    return "\n".join(lines) + "\n"


def vhost_of(amqp_uri: str) -> str:
    path = urlparse(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def user_uri(amqp_uri: str, user: str, password: str) -> str:
    """`amqp_uri` (host, port, vhost) with `user`'s credentials."""
    parsed = urlparse(amqp_uri)
    host = parsed.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=netloc))  # noqa: SLF001 - namedtuple's public _replace


def service_uris(amqp_uri: str, namespace: str, passwords: dict[str, str]) -> dict[str, str]:
    """AMQP_URI_<SERVICE> for every service (deploy/local/Procfile gives each process its service's)."""
    return {f"AMQP_URI_{service.upper()}": user_uri(amqp_uri, permissions.user_name(namespace, service),
                                                     passwords[permissions.user_name(namespace, service)])
            for service in permissions.SERVICES}


def platform_users(namespace: str, integrators: list[str], provinces: list[str] = ()) -> list[BrokerUser]:
    """The services' users, and an integrator user for each integrator and province (a province also sends the county
    its matters and reads the answers: permissions.integrator_user)."""
    return [*permissions.service_users(namespace), *(permissions.integrator_user(namespace, i) for i in integrators),
            *(permissions.integrator_user(namespace, p, province=True) for p in provinces)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.rabbitmq.users", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["apply", "script", "uris"])
    parser.add_argument("--namespace", default=os.environ.get("XINFANG_NAMESPACE", "xinfang"))
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--integrator", action="append", default=[], help="an integrator's name (repeatable)")
    parser.add_argument("--province", action="append", default=[],
                        help="a province's integrator name: it may also send matters and read the answers (repeatable)")
    parser.add_argument("--node", help="rabbitmqctl's -n (default: the local node)")
    parser.add_argument("--amqp-uri", help="for `uris`: the broker's address and vhost")
    parser.add_argument("--passwords-from", type=Path, help="a folder of password files named after the users "
                        "(what `make run` generates under its data folder) instead of AMQP_PASSWORD_*")
    args = parser.parse_args(argv)
    users = platform_users(args.namespace, args.integrator, args.province)
    try:
        if args.command == "script":
            sys.stdout.write(script(users, args.vhost, args.node))
        elif args.command == "uris":
            uri = args.amqp_uri or "amqp://127.0.0.1:5672/"
            for name, value in service_uris(uri, args.namespace, passwords_from_environment(
                    permissions.service_users(args.namespace))).items():
                print(f"{name}={value}")
        else:
            ctl = system_rabbitmqctl if not args.node else (
                lambda a, s: system_rabbitmqctl(["-n", args.node, *a], s))
            passwords = (passwords_from_folder(args.passwords_from, users) if args.passwords_from
                         else passwords_from_environment(users))
            apply(users, passwords, args.vhost, ctl)
            print(f"{len(users)} broker users set on vhost {args.vhost}: {', '.join(u.name for u in users)}")
    except BrokerSetupFailed as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
