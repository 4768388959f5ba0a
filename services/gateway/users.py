"""Managing officer accounts (the GATEWAY_USERS_FILE): `python -m services.gateway.users --help`.

    add       --file users.json --username zhangsan --role clerk --organ 330106-XFJ (password read from stdin)
    add       --file users.json --username zj-province --role integrator --source urn:xinfang:province:330000
              (an integrator: the integration feed alone; each --source a province whose answers it may read)
    password  --file users.json --username zhangsan                                  (new password from stdin)
    remove    --file users.json --username zhangsan
    demo      --file users.json --credentials demo-accounts.json                     (development only)

A running gateway notices the change within GATEWAY_USERS_RELOAD_SECONDS: a removed account, or one given another
role, organ or password, can no longer sign in, and the tokens issued to it before stop working.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

from services.gateway.security import ACCOUNT_ROLES, UserRecord, UsersFile, hash_password
from shared.language.contracts.actor import Role

DEMO_ACCOUNTS = [
    ("clerk", "登记员（县信访局）", Role.CLERK, "330106-XFJ"),
    ("officer-chengguan", "城关镇人民政府经办人", Role.ORGAN_OFFICER, "330106001-ZF"),
    ("officer-rsj", "县人社局经办人", Role.ORGAN_OFFICER, "330106-RSJ"),
    ("supervisor", "督查督办员", Role.SUPERVISOR, "330106-XFJ"),
    ("auditor", "审计员", Role.AUDITOR, None),
    ("admin", "系统管理员", Role.ADMIN, None),
]


def _read(path: Path) -> UsersFile:
    if not path.exists():
        return UsersFile(users=[])
    return UsersFile.model_validate(json.loads(path.read_text(encoding="utf-8")))


def _write(path: Path, users: UsersFile) -> None:
    """Replace the file in one step (a new file renamed over it): a gateway re-reading it meanwhile sees the old
    accounts or the new ones, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps(users.model_dump(mode="json"), ensure_ascii=False, indent=2))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_user(path: Path, username: str, role: Role, organ: str | None, display_name: str, password: str, *,
             sources: list[str] | None = None) -> None:
    users = _read(path)
    records = [u for u in users.users if u.username != username]
    records.append(UserRecord(username=username, display_name=display_name, role=role, organ_code=organ,
                              password_hash=hash_password(password), sources=sources or []))
    _write(path, UsersFile(users=records))


def remove_user(path: Path, username: str) -> None:
    users = _read(path)
    if not any(u.username == username for u in users.users):
        raise KeyError(username)
    _write(path, UsersFile(users=[u for u in users.users if u.username != username]))


def set_password(path: Path, username: str, password: str) -> None:
    users = _read(path)
    if not any(u.username == username for u in users.users):
        raise KeyError(username)
    _write(path, UsersFile(users=[u.model_copy(update={"password_hash": hash_password(password)})
                                  if u.username == username else u for u in users.users]))


def _new_password(parser: argparse.ArgumentParser) -> str:
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        parser.error("the password must have at least 10 characters")
    return password


def seed_demo(path: Path, credentials: Path) -> list[dict[str, str]]:
    """Demo accounts with random passwords, created once per data folder and reused afterwards."""
    if path.exists() and credentials.exists():
        return json.loads(credentials.read_text(encoding="utf-8"))
    shown = []
    for username, display_name, role, organ in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        add_user(path, username, role, organ, display_name, password)
        shown.append({"username": username, "password": password, "role": role.value, "organ": organ or "",
                      "display_name": display_name})
    credentials.write_text(json.dumps(shown, ensure_ascii=False, indent=2), encoding="utf-8")
    credentials.chmod(0o600)
    return shown


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.gateway.users", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add or replace an account")
    add.add_argument("--file", type=Path, required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--role", choices=[r.value for r in ACCOUNT_ROLES], required=True)
    add.add_argument("--organ", help="organ code (required for organ_officer)")
    add.add_argument("--source", action="append", default=[],
                     help="integrator only, repeatable: a province (CloudEvents source) whose answers it may read")
    add.add_argument("--display-name", default="")
    change = commands.add_parser("password", help="give an account a new password (ends its tokens)")
    change.add_argument("--file", type=Path, required=True)
    change.add_argument("--username", required=True)
    remove = commands.add_parser("remove", help="remove an account (ends its tokens)")
    remove.add_argument("--file", type=Path, required=True)
    remove.add_argument("--username", required=True)
    demo = commands.add_parser("demo", help="seed demonstration accounts (development only)")
    demo.add_argument("--file", type=Path, required=True)
    demo.add_argument("--credentials", type=Path, required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "add":
        if arguments.role == Role.ORGAN_OFFICER.value and not arguments.organ:
            parser.error("--organ is required for organ_officer")
        if arguments.source and arguments.role != Role.INTEGRATOR.value:
            parser.error("--source is for integrator accounts only")
        add_user(arguments.file, arguments.username, Role(arguments.role), arguments.organ,
                 arguments.display_name, _new_password(parser), sources=arguments.source)
        print(f"saved {arguments.username} to {arguments.file}")
    elif arguments.command in ("password", "remove"):
        try:
            if arguments.command == "password":
                set_password(arguments.file, arguments.username, _new_password(parser))
            else:
                remove_user(arguments.file, arguments.username)
        except KeyError:
            parser.error(f"no account {arguments.username!r} in {arguments.file}")
        print(f"{'changed the password of' if arguments.command == 'password' else 'removed'} "
              f"{arguments.username} in {arguments.file}")
    else:
        for account in seed_demo(arguments.file, arguments.credentials):
            print(f"  {account['username']:<18} {account['password']:<14} {account['role']:<14} {account['organ']}")


if __name__ == "__main__":
    main()
