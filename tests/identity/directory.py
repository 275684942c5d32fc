"""A real OpenLDAP server (Debian's slapd) for the tests: its own configuration and database in
a temporary folder, listening on a free loopback port, never the system's slapd service."""

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import ldap

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=example,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "directory-root-secret"  # noqa: S105 - test directory only
SERVICE_DN = f"cn=portal,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "portal-bind-secret"  # noqa: S105
PASSWORD = "Directory pass 1"  # noqa: S105 - every test person's password
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
DISABLED_GROUP = f"cn=disabled,{GROUPS}"

# uid: (given name, surname); carol is disabled (member of cn=disabled); `root` has the name
# of a local site admin of the tests and must never take that account over.
PERSONS = {
    "alice": ("Alice", "Liddell"),
    "bob": ("Bob", "Builder"),
    "carol": ("Carol", "Danvers"),
    "dave": ("Dave", "Bowman"),
    "root": ("Root", "Impostor"),
}
# cn: members
GROUP_MEMBERS = {
    "ml-team": ["alice", "bob"],
    "ml-leads": ["alice"],
    "portal-admins": ["dave"],
    "old-project": ["bob"],
    "disabled": ["carol"],
}

CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
{tls}
database mdb
maxsize 67108864
suffix "{suffix}"
rootdn "{admin_dn}"
rootpw {admin_password}
directory {root}/data
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by dn.exact="{service_dn}" read
    by self read
    by * none
"""


def _entries() -> str:
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: portal\nuserPassword: {SERVICE_PASSWORD}",
    ]
    for uid, (given, surname) in PERSONS.items():
        blocks.append(
            f"dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {given} {surname}\n"
            f"givenName: {given}\nsn: {surname}\nmail: {uid}@example.test\nuserPassword: {PASSWORD}"
        )
    for cn, members in GROUP_MEMBERS.items():
        member_lines = "\n".join(f"member: uid={uid},{PEOPLE}" for uid in members)
        blocks.append(f"dn: cn={cn},{GROUPS}\nobjectClass: groupOfNames\ncn: {cn}\n{member_lines}")
    return "\n\n".join(blocks) + "\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Directory:
    root: Path
    port: int
    process: subprocess.Popen
    ca_file: str | None = None

    tls_port: int | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def admin(self) -> ldap.ldapobject.LDAPObject:
        connection = ldap.initialize(self.url)
        connection.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return connection

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def directory_start(*, tls: dict[str, str] | None = None) -> Directory:
    """Start slapd with the test directory loaded; `tls` (certificate, key, ca) turns StartTLS on."""
    root = Path(tempfile.mkdtemp(prefix="portal-slapd-"))
    (root / "data").mkdir()
    tls_lines = ""
    if tls:
        tls_lines = (
            f"TLSCACertificateFile {tls['ca']}\nTLSCertificateFile {tls['certificate']}\n"
            f"TLSCertificateKeyFile {tls['key']}"
        )
    config = root / "slapd.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            tls=tls_lines,
            suffix=SUFFIX,
            admin_dn=ADMIN_DN,
            admin_password=ADMIN_PASSWORD,
            service_dn=SERVICE_DN,
        )
    )
    (root / "directory.ldif").write_text(_entries())
    subprocess.run(
        [SLAPADD, "-f", str(config), "-l", str(root / "directory.ldif")], check=True, capture_output=True
    )
    port = free_port()
    tls_port = free_port() if tls else None
    listeners = f"ldap://127.0.0.1:{port}/" + (f" ldaps://127.0.0.1:{tls_port}/" if tls else "")
    log = open(root / "slapd.log", "wb")  # noqa: SIM115 - the process holds it until it ends
    # -d keeps slapd in the foreground, so that the test run owns (and stops) the process.
    process = subprocess.Popen(
        [SLAPD, "-f", str(config), "-h", listeners, "-d", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    directory = Directory(
        root=root, port=port, process=process, ca_file=tls["ca"] if tls else None, tls_port=tls_port
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            directory.admin().unbind_s()
            return directory
        except ldap.SERVER_DOWN:
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = (root / "slapd.log").read_text(errors="replace")
                directory.stop()
                raise RuntimeError(f"slapd did not start:\n{log_text}") from None
            time.sleep(0.1)


def tls_files(folder: Path) -> dict[str, str]:
    """A private CA and a certificate it signed for 127.0.0.1, as PEM files in `folder`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "identity tests CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": folder / "ca.pem", "certificate": folder / "server.pem", "key": folder / "server.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["certificate"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return {name: str(path) for name, path in files.items()}
