"""The per-sandbox SSH key pair that lets a sandbox's nodes reach each other without a password.

The private key lives on the sandbox row and, in each node, in a file only the node's user may
read (the driver's put_secret_files; sandbox-entrypoint copies it to the user's ~/.ssh). It is
never in an environment, an API or a page, and it goes with the sandbox."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def ssh_private_key_new() -> str:
    """A new ed25519 private key in OpenSSH format."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.OpenSSH,
            encryption_algorithm=serialization.NoEncryption(),
        )
        .decode()
    )


def ssh_public_key(private_key: str, *, comment: str = "") -> str:
    """The authorized_keys line of a private key made by ssh_private_key_new."""
    key = serialization.load_ssh_private_key(private_key.encode(), password=None)
    line = key.public_key().public_bytes(
        encoding=serialization.Encoding.OpenSSH, format=serialization.PublicFormat.OpenSSH
    )
    return f"{line.decode()} {comment}".strip()
