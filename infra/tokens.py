"""Access tokens: JWTs this service signs (HS256, key id in the header so keys can rotate), or, in a
deployment behind another OAuth2/OIDC issuer, that issuer's tokens checked against its JWKS."""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from infra.settings import Settings


class InvalidToken(Exception):
    """Missing, malformed, badly signed, expired or for another audience; the message says which."""


@dataclass(frozen=True)
class AccessClaims:
    client_id: str
    tenant: str
    scopes: frozenset[str]
    expires_at: datetime
    issued_at: datetime | None = None
    # Issued by this service for one of its clients (whose revocation the API then checks), not by
    # the external issuer of jwt_jwks_url.
    issued_here: bool = True


class TokenService:
    ALGORITHM = "HS256"

    def __init__(self, settings: Settings) -> None:
        current = settings.jwt_signing_key.get_secret_value() if settings.jwt_signing_key else secrets.token_hex(32)
        self.key_id = settings.jwt_key_id
        # The current key signs; earlier keys still verify the tokens they signed until those expire.
        self.keys = {kid: key.get_secret_value() for kid, key in settings.jwt_previous_keys.items()}
        self.keys[self.key_id] = current
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self.tenant_claim = settings.jwt_tenant_claim
        self.external = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None
        self.external_issuer = settings.jwt_external_issuer
        self.external_audience = settings.jwt_external_audience

    def issue(self, *, client_id: str, tenant: str, scopes: frozenset[str]) -> tuple[str, int]:
        """A signed token and its lifetime in seconds."""
        now = datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            self.tenant_claim: tenant,
            "scope": " ".join(sorted(scopes)),
            # A fractional NumericDate (RFC 7519 allows it): compared with the instant of a secret's
            # rotation, a token of the same second after it must not look older.
            "iat": now.timestamp(),
            "exp": now + self.ttl,
        }
        token = jwt.encode(claims, self.keys[self.key_id], algorithm=self.ALGORITHM, headers={"kid": self.key_id})
        return token, int(self.ttl.total_seconds())

    async def verify(self, token: str) -> AccessClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            own_key = self.keys.get(kid) if isinstance(kid, str) else None
            issued_here = own_key is not None
            if own_key is not None:
                claims = jwt.decode(
                    token,
                    own_key,
                    algorithms=[self.ALGORITHM],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            elif self.external is not None:
                claims = await self._verify_external(token)
            else:
                raise InvalidToken("the token is not signed with a key this service knows")
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is not valid: {error}") from None
        tenant = claims.get(self.tenant_claim)
        if not isinstance(tenant, str):
            raise InvalidToken(f"the token names no tenant (claim {self.tenant_claim!r})")
        return AccessClaims(
            client_id=str(claims["sub"]),
            tenant=tenant,
            scopes=frozenset(str(claims.get("scope", "")).split()),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC) if "iat" in claims else None,
            issued_here=issued_here,
        )

    async def _verify_external(self, token: str) -> dict[str, object]:
        # Settings refuse a JWKS URL without both: PyJWT skips the check of an issuer or audience of None.
        # Checked here too (not by assert, which `python -O` drops): a token must never pass unchecked.
        if self.external is None or not self.external_issuer or not self.external_audience:
            raise jwt.InvalidTokenError("external tokens are not configured")
        # PyJWKClient fetches with urllib (blocking) and caches the keys: keep it off the event loop.
        signing_key = await asyncio.to_thread(self.external.get_signing_key_from_jwt, token)
        claims: dict[str, object] = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256", "ES256", "PS256"],
            audience=self.external_audience,
            issuer=self.external_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return claims
