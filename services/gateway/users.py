"""Managing officer accounts (the GATEWAY_USERS_FILE): `python -m services.gateway.users --help`.

    add    --file users.json --username zhangsan --role clerk --organ 330106-XFJ   (password read from stdin)
    demo   --file users.json --credentials demo-accounts.json                      (development only)
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from pathlib import Path

from services.gateway.security import Role, UserRecord, UsersFile, hash_password

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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(users.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
    path.chmod(0o600)


def add_user(path: Path, username: str, role: Role, organ: str | None, display_name: str, password: str) -> None:
    users = _read(path)
    records = [u for u in users.users if u.username != username]
    records.append(UserRecord(username=username, display_name=display_name, role=role, organ_code=organ,
                              password_hash=hash_password(password)))
    _write(path, UsersFile(users=records))


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
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--organ", help="organ code (required for organ_officer)")
    add.add_argument("--display-name", default="")
    demo = commands.add_parser("demo", help="seed demonstration accounts (development only)")
    demo.add_argument("--file", type=Path, required=True)
    demo.add_argument("--credentials", type=Path, required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "add":
        if arguments.role == Role.ORGAN_OFFICER.value and not arguments.organ:
            parser.error("--organ is required for organ_officer")
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if len(password) < 10:
            parser.error("the password must have at least 10 characters")
        add_user(arguments.file, arguments.username, Role(arguments.role), arguments.organ,
                 arguments.display_name, password)
        print(f"saved {arguments.username} to {arguments.file}")
    else:
        for account in seed_demo(arguments.file, arguments.credentials):
            print(f"  {account['username']:<18} {account['password']:<14} {account['role']:<14} {account['organ']}")


if __name__ == "__main__":
    main()
