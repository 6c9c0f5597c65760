"""Users and API keys (admins only), and ``/api/me`` (anyone: who am I, what may I do)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.core.users import UserDirectory
from app.models.users import ROLE_PERMISSIONS, Permission, Role
from app.server.auth import NO_EXPIRY
from app.server.deps import Ctx, CurrentUser, needs
from app.server.errors import unavailable
from app.server.params import QueryInt
from app.server.user_schemas import (
    AccountsIn,
    KeyIn,
    KeyOut,
    MeOut,
    NewKeyOut,
    PasswordIn,
    RoleIn,
    UserIn,
    UserRecordOut,
)

router = APIRouter(prefix="/api", tags=["users"])
ADMIN = needs(Permission.ADMIN, "manage users and keys")

UserName = Annotated[str, Path(min_length=1, max_length=64)]
KeyId = Annotated[QueryInt, Path(ge=1, le=2**63 - 1)]


def _directory(ctx: Ctx) -> UserDirectory:
    directory = ctx.tokens.directory
    if directory is None:
        raise unavailable("users are not available in this server", "users_unavailable")
    return directory


@router.get("/me", response_model=MeOut)
async def me(user: CurrentUser) -> MeOut:
    """The caller: name, role, account scope (null: every account) and what the role allows."""
    role = Role(user.role)
    expires = None if user.expires_at >= NO_EXPIRY else datetime.fromtimestamp(user.expires_at, UTC)
    return MeOut(
        username=user.username,
        role=role.value,
        kind=user.kind,
        accounts=user.scope.to_json(),
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[role]),
        expires_at=expires,
    )


def _builtin(ctx: Ctx) -> UserRecordOut:
    return UserRecordOut(username=ctx.tokens.username, role="admin", accounts=None, builtin=True)


@router.get("/users", response_model=list[UserRecordOut], dependencies=ADMIN)
async def list_users(ctx: Ctx) -> list[UserRecordOut]:
    """Every user, the built-in administrator first."""
    return [_builtin(ctx), *(UserRecordOut.of(u) for u in await _directory(ctx).users())]


@router.post("/users", response_model=UserRecordOut, status_code=201, dependencies=ADMIN)
async def add_user(body: UserIn, ctx: Ctx, user: CurrentUser, response: Response) -> UserRecordOut:
    """Add a user with a role and an account scope (``accounts`` null: every account)."""
    added = await _directory(ctx).add(
        body.username, Role(body.role), body.scope(), body.password, actor=user.actor
    )
    await ctx.tokens.refresh()
    response.headers["Location"] = f"/api/users/{added.username}"
    return UserRecordOut.of(added)


@router.get("/users/{username}", response_model=UserRecordOut, dependencies=ADMIN)
async def get_user(username: UserName, ctx: Ctx) -> UserRecordOut:
    if ctx.tokens.is_user(username):
        return _builtin(ctx)
    return UserRecordOut.of(await _directory(ctx).get(username))


@router.delete("/users/{username}", response_model=UserRecordOut, dependencies=ADMIN)
async def remove_user(username: UserName, ctx: Ctx, user: CurrentUser) -> UserRecordOut:
    """Remove the user: its tokens stop working and its sockets close at once."""
    changed = await _directory(ctx).remove(username, actor=user.actor)
    await ctx.tokens.refresh()  # revoked before the answer: its sockets are closing now
    return UserRecordOut.of(changed)


@router.post("/users/{username}/role", response_model=UserRecordOut, dependencies=ADMIN)
async def set_role(username: UserName, body: RoleIn, ctx: Ctx, user: CurrentUser) -> UserRecordOut:
    changed = await _directory(ctx).set_role(username, Role(body.role), actor=user.actor)
    await ctx.tokens.refresh()  # revoked before the answer: its sockets are closing now
    return UserRecordOut.of(changed)


@router.post("/users/{username}/accounts", response_model=UserRecordOut, dependencies=ADMIN)
async def set_accounts(username: UserName, body: AccountsIn, ctx: Ctx, user: CurrentUser) -> UserRecordOut:
    changed = await _directory(ctx).set_accounts(username, body.scope(), actor=user.actor)
    await ctx.tokens.refresh()  # revoked before the answer: its sockets are closing now
    return UserRecordOut.of(changed)


@router.post("/users/{username}/password", response_model=UserRecordOut, dependencies=ADMIN)
async def set_password(username: UserName, body: PasswordIn, ctx: Ctx, user: CurrentUser) -> UserRecordOut:
    changed = await _directory(ctx).set_password(username, body.password, actor=user.actor)
    await ctx.tokens.refresh()  # revoked before the answer: its sockets are closing now
    return UserRecordOut.of(changed)


@router.get("/keys", response_model=list[KeyOut], dependencies=ADMIN)
async def list_keys(ctx: Ctx) -> list[KeyOut]:
    """Every API key (never the key itself): prefix, role, scope, expiry, last use, status."""
    return [KeyOut.of(k) for k in await _directory(ctx).keys()]


@router.post("/keys", response_model=NewKeyOut, status_code=201, dependencies=ADMIN)
async def create_key(body: KeyIn, ctx: Ctx, user: CurrentUser) -> NewKeyOut:
    """A new API key; ``key`` in the answer is shown this once."""
    record, key = await _directory(ctx).create_key(
        body.name, Role(body.role), body.scope(), body.expiry(), actor=user.actor
    )
    await ctx.tokens.refresh()  # usable as soon as it is answered
    return NewKeyOut(**KeyOut.of(record).model_dump(), key=key)


@router.delete("/keys/{key_id}", response_model=KeyOut, dependencies=ADMIN)
async def revoke_key(key_id: KeyId, ctx: Ctx, user: CurrentUser) -> KeyOut:
    """Revoke the key: it answers 401 from now on, and its sockets close at once."""
    revoked = await _directory(ctx).revoke_key(key_id, actor=user.actor)
    await ctx.tokens.refresh()
    return KeyOut.of(revoked)
