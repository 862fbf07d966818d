"""Entra ID for the emulator: the token endpoint (client secret, client certificate assertion, federated
workload-identity assertion), the access tokens it issues, and ARM's checks of those tokens.

Access tokens are HS256 JWTs signed with a per-instance key, so only this emulator accepts them.
Client assertions signed with a certificate are verified against the identity's registered
certificates (PS256 as azure-identity sends, or RS256). Federated assertions (a Kubernetes service
account token) are matched on issuer, subject and audience; their signature is not checked,
because the issuer's keys are not reachable from here.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from azure_emulator import ids
from azure_emulator.errors import ArmError
from azure_emulator.records import Identity

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    text = text.strip().rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """`(header, claims, signed bytes, signature)` of a JWT; ValueError when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a JWT")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), b64url_decode(parts[2]) if parts[2] else b""


@dataclass(frozen=True)
class EntraError(Exception):
    """A token-endpoint refusal in Entra ID's format."""

    status: int
    error: str
    aadsts: int
    description: str

    def body(self) -> dict[str, Any]:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.aadsts}: {self.description} Trace ID: {uuid.uuid4()} "
            f"Correlation ID: {uuid.uuid4()} Timestamp: {now}",
            "error_codes": [self.aadsts],
            "timestamp": now,
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "error_uri": "https://login.microsoftonline.com/error?code=" + str(self.aadsts),
        }


@dataclass(frozen=True)
class Claims:
    """What ARM reads from a verified access token."""

    tenant_id: str
    client_id: str
    object_id: str
    audience: str
    expires: float


class TokenService:
    """Issues and verifies the emulator's access tokens."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def issue(self, identity: Identity, audience: str, now: float, lifetime: float, *, method: str = "1") -> str:
        header = {"typ": "JWT", "alg": "HS256", "kid": "emulator"}
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{identity.tenant_id}/",
            "iat": int(now),
            "nbf": int(now) - 5,
            "exp": int(now + lifetime),
            "appid": identity.client_id,
            "appidacr": method,
            "idp": f"https://sts.windows.net/{identity.tenant_id}/",
            "idtyp": "app",
            "oid": identity.object_id,
            "sub": identity.object_id,
            "tid": identity.tenant_id,
            "uti": b64url(secrets.token_bytes(12)),
            "ver": "1.0",
        }
        signing = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = hmac.new(self._key, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{b64url(signature)}"

    def verify(self, authorization: str | None, now: float, allowed_audiences: Sequence[str]) -> Claims:
        """Check ARM's `Authorization` header; raise the 401 ARM answers when it is missing, bad or expired."""
        if not authorization:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        try:
            header, claims, signed, signature = decode_jwt(token.strip())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.") from exc
        expected = hmac.new(self._key, signed, hashlib.sha256).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(expected, signature):
            raise ArmError(401, "InvalidAuthenticationToken", "The access token signature is invalid.")
        exp = float(claims.get("exp", 0))
        if exp <= now:
            raise ArmError(
                401,
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{_arm_time(exp)}' is earlier than current UTC time "
                f"'{_arm_time(now)}'.",
            )
        aud = str(claims.get("aud", ""))
        if aud.rstrip("/").lower() not in {a.rstrip("/").lower() for a in allowed_audiences}:
            raise ArmError(
                401,
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{aud}'. It should "
                "exactly match with one of the allowed audiences "
                + ",".join(f"'{a}/'" for a in allowed_audiences)
                + ".",
            )
        return Claims(str(claims.get("tid", "")), str(claims.get("appid", "")), str(claims.get("oid", "")), aud, exp)


def _arm_time(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"{d.month}/{d.day}/{d.year} {d.strftime('%I:%M:%S %p').lstrip('0')}"


def _thumbprints(pem: str) -> tuple[x509.Certificate, set[str]]:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return cert, {b64url(cert.fingerprint(hashes.SHA1())), b64url(cert.fingerprint(hashes.SHA256()))}


def _verify_signature(cert: x509.Certificate, alg: str, signed: bytes, signature: bytes) -> bool:
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and alg == "PS256":
            key.verify(signature, signed, padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO), hashes.SHA256())
        elif isinstance(key, rsa.RSAPublicKey) and alg == "RS256":
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey) and alg == "ES256":
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half]), int.from_bytes(signature[half:]))
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _check_certificate_assertion(identity: Identity, assertion: str, token_url: str, now: float) -> None:
    header, claims, signed, signature = decode_jwt(assertion)
    thumb = str(header.get("x5t#S256") or header.get("x5t") or "").rstrip("=")
    for pem in identity.certificates:
        cert, prints = _thumbprints(pem)
        if thumb in prints:
            break
    else:
        raise EntraError(
            401,
            "invalid_client",
            700027,
            "The certificate with identifier used to sign the client assertion is not registered on "
            f"application. [Reason - The key was not found., Thumbprint of key used by client: '{thumb}']",
        )
    if not _verify_signature(cert, str(header.get("alg")), signed, signature):
        raise EntraError(401, "invalid_client", 700027, "Client assertion contains an invalid signature.")
    if not (float(claims.get("nbf", 0)) - 300 <= now <= float(claims.get("exp", 0)) + 300):
        raise EntraError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    aud = str(claims.get("aud", ""))
    if aud.rstrip("/").lower() != token_url.rstrip("/").lower() and "/oauth2/" not in aud:
        raise EntraError(
            401,
            "invalid_client",
            700021,
            f"Client assertion audience claim does not match Realm issuer. "
            f"Review the documentation at https://aka.ms/certCreds. {aud}",
        )


def _check_federated_assertion(identity: Identity, claims: Mapping[str, Any], now: float) -> None:
    issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
    audiences = claims.get("aud", [])
    audiences = [audiences] if isinstance(audiences, str) else list(audiences)
    match = next(
        (
            f
            for f in identity.federated
            if f.issuer.rstrip("/") == issuer.rstrip("/") and f.subject == subject and f.audience in audiences
        ),
        None,
    )
    if match is None:
        raise EntraError(
            400,
            "invalid_request",
            70021,
            "No matching federated identity record found for presented assertion. "
            f"Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. "
            f"Assertion Audience: '{','.join(map(str, audiences))}'.",
        )
    if float(claims.get("exp", 0)) <= now:
        raise EntraError(400, "invalid_client", 700024, "Client assertion is not within its valid time range.")


def authenticate(
    identity_lookup: Callable[[str, str], Identity | None],
    tenants: set[str],
    tenant: str,
    form: Mapping[str, str],
    token_url: str,
    now: float,
) -> tuple[Identity, str, str]:
    """Check a client-credentials token request; return `(identity, audience, appidacr)` or raise EntraError."""
    grant = form.get("grant_type", "")
    if grant != "client_credentials":
        raise EntraError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'. The emulator serves client_credentials.",
        )
    if ids.key(tenant) not in tenants:
        raise EntraError(
            400,
            "invalid_request",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
            "signing into the correct cloud.",
        )
    scope = form.get("scope") or (form.get("resource", "") and form["resource"] + "/.default")
    if not scope:
        raise EntraError(
            400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."
        )
    if not scope.endswith("/.default"):
        raise EntraError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope "
            "value with /.default suffixed to the resource identifier (application ID URI).",
        )
    client_id = form.get("client_id", "")
    identity: Identity | None = identity_lookup(tenant, client_id)
    if identity is None:
        raise EntraError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can "
            "happen if the application has not been installed by the administrator of the tenant or "
            "consented to by any user in the tenant. You may have sent your authentication request to "
            "the wrong tenant.",
        )
    audience = scope[: -len("/.default")]
    if "client_secret" in form:
        if not identity.secret or not hmac.compare_digest(identity.secret, form["client_secret"]):
            raise EntraError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{client_id}'.",
            )
        return identity, audience, "1"
    assertion = form.get("client_assertion")
    if not assertion or form.get("client_assertion_type") != JWT_BEARER:
        raise EntraError(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    try:
        header, claims, _, _ = decode_jwt(assertion)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntraError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from exc
    is_certificate = ("x5t" in header or "x5t#S256" in header) and claims.get("iss") == client_id
    if is_certificate:
        _check_certificate_assertion(identity, assertion, token_url, now)
    else:
        _check_federated_assertion(identity, claims, now)
    return identity, audience, "2"


def token_response(token: str, lifetime: int) -> dict[str, Any]:
    return {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}


def openid_configuration(base: str, tenant: str) -> dict[str, Any]:
    """The OpenID discovery document MSAL reads (`{authority}/{tenant}/v2.0/.well-known/openid-configuration`)."""
    root = f"{base}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
        "kerberos_endpoint": f"{root}/kerberos",
        "tenant_region_scope": None,
        "cloud_instance_name": "emulator",
        "cloud_graph_host_name": "graph.emulator",
        "msgraph_host": "graph.emulator",
        "rbac_url": base,
    }


def instance_discovery(base: str, authority: str) -> dict[str, Any]:
    host = base.split("//", 1)[-1]
    return {
        "tenant_discovery_endpoint": f"{authority.rstrip('/')}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
    }


def denied(identity: Identity | None, action: str, scope: str) -> bool:
    """Whether one of the identity's denials covers this action at this scope."""
    if identity is None:
        return False
    for rule in identity.deny:
        if fnmatch.fnmatchcase(action.lower(), rule.action.lower()) and (
            not rule.scope or scope.lower().startswith(rule.scope.lower().rstrip("/"))
        ):
            return True
    return False


def authorization_failed(client_id: str, object_id: str, action: str, scope: str) -> ArmError:
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{client_id}' with object id '{object_id}' does not have authorization to perform action "
        f"'{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh "
        "your credentials.",
    )
