"""Manage curator API keys.

    python -m service.keys create --name alice --role editor   prints the token once
    python -m service.keys revoke KEY_ID
    python -m service.keys list

Uses `DATABASE_URL` (or `--database-url`). Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from service.auth import ROLES, create_key, list_keys, revoke_key
from service.db import create_engine
from service.settings import Settings


async def _run(args: argparse.Namespace) -> int:
    engine = create_engine(args.database_url or Settings.from_env().database_url, pool=False)
    try:
        async with engine.begin() as conn:
            if args.command == "create":
                key_id, token = await create_key(conn, args.name, args.role)
                print(f"key id {key_id} ({args.role}) for {args.name}. The token, shown only once:")
                print(token)
            elif args.command == "revoke":
                if not await revoke_key(conn, args.key_id):
                    print(f"no active key {args.key_id!r}", file=sys.stderr)
                    return 1
                print(f"revoked {args.key_id}")
            else:
                for row in await list_keys(conn):
                    state = (
                        f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
                    )
                    print(f"{row['id']}  {row['role']:<6}  {state:<18}  {row['name']}")
    finally:
        await engine.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.keys", description="API keys")
    parser.add_argument("--database-url", default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print its token once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=ROLES, default="editor")
    revoke = sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    sub.add_parser("list", help="list keys (ids, names, roles; never tokens)")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
