"""A real OPC-UA server (asyncua 2.1) for the shim's OPC-UA source tests (tests/opcua.rs).

Security None, anonymous access, endpoint opc.tcp://127.0.0.1:<port>/. Namespace index 2 holds,
all under the object ns=2;s=Line1, values that change every --period seconds (tick k = 1, 2, ...):

  ns=2;s=Line1.Diameter  Double   10.0 + 0.001 * k
  ns=2;s=Line1.Count     Int32    k
  ns=2;s=Line1.Label     String   "batch-<k>"             (never a number: malformed)
  ns=2;s=Line1.Sensor    Double   k, but every 4th tick the status is BadSensorFailure

Every value carries a source timestamp of the moment it was written. Prints nothing; it runs
until killed.

Options: --user NAME:PASSWORD accepts only that user-name login (no anonymous access);
--secure DIR offers only Basic256Sha256 with SignAndEncrypt instead of security None, with a
self-signed server certificate made in DIR (any client certificate is accepted).
"""

import argparse
import asyncio
import datetime
from pathlib import Path

from asyncua import Server, ua
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from asyncua.server.user_managers import UserManager
from asyncua.crypto.permission_rules import User, UserRole
from cryptography.x509.oid import ExtendedKeyUsageOID


class OneUser(UserManager):
    """Accepts exactly one user name and password."""

    def __init__(self, name: str, password: str) -> None:
        self.name, self.password = name, password

    def get_user(self, iserver, username=None, password=None, certificate=None):
        if username == self.name and password == self.password:
            return User(role=UserRole.User)
        return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--period", type=float, default=0.2, help="seconds between changes")
    parser.add_argument("--user", help="NAME:PASSWORD, the only login accepted")
    parser.add_argument("--secure", type=Path, help="folder for the server certificate")
    args = parser.parse_args()

    user_manager = None
    if args.user:
        name, _, password = args.user.partition(":")
        user_manager = OneUser(name, password)
    server = Server(user_manager=user_manager)
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{args.port}/")
    server.set_server_name("llmscope test oven")
    if args.user:
        server.set_identity_tokens([ua.UserNameIdentityToken])
    if args.secure:
        uri = "urn:llmscope:test:server"
        await server.set_application_uri(uri)
        args.secure.mkdir(parents=True, exist_ok=True)
        key, cert = args.secure / "server-key.pem", args.secure / "server-cert.der"
        await setup_self_signed_certificate(
            key, cert, uri, "127.0.0.1", [ExtendedKeyUsageOID.SERVER_AUTH], {"commonName": "llmscope test oven"}
        )
        await server.load_certificate(str(cert))
        await server.load_private_key(str(key))
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])

    idx = await server.register_namespace("urn:llmscope:test:oven")
    if idx != 2:
        raise SystemExit(f"expected namespace index 2, got {idx}")

    line = await server.nodes.objects.add_object(ua.NodeId("Line1", idx), ua.QualifiedName("Line1", idx))

    async def variable(name: str, value: object, kind: ua.VariantType):
        return await line.add_variable(
            ua.NodeId(f"Line1.{name}", idx), ua.QualifiedName(name, idx), ua.Variant(value, kind)
        )

    diameter = await variable("Diameter", 10.0, ua.VariantType.Double)
    count = await variable("Count", 0, ua.VariantType.Int32)
    label = await variable("Label", "batch-0", ua.VariantType.String)
    sensor = await variable("Sensor", 0.0, ua.VariantType.Double)

    def value(v: object, kind: ua.VariantType, status: int = ua.StatusCodes.Good) -> ua.DataValue:
        now = datetime.datetime.now(datetime.timezone.utc)
        return ua.DataValue(
            Value=ua.Variant(v, kind),
            StatusCode=ua.StatusCode(status),
            SourceTimestamp=now,
            ServerTimestamp=now,
        )

    async with server:
        k = 0
        while True:
            await asyncio.sleep(args.period)
            k += 1
            await diameter.write_value(value(10.0 + 0.001 * k, ua.VariantType.Double))
            await count.write_value(value(k, ua.VariantType.Int32))
            await label.write_value(value(f"batch-{k}", ua.VariantType.String))
            bad = k % 4 == 0
            await sensor.write_value(
                value(float(k), ua.VariantType.Double, ua.StatusCodes.BadSensorFailure if bad else ua.StatusCodes.Good)
            )


if __name__ == "__main__":
    asyncio.run(main())
