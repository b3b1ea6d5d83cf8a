"""Generate the asymmetric JWT key pairs that local runs, the cluster and the bench use."""

from pathlib import Path

from config.secret_files import secret_file_ensure

ALGORITHMS = ("RS256", "EdDSA")


def key_pair_ensure(*, algorithm: str, private_path: Path, public_path: Path) -> None:
    """
    Make sure a key pair for the algorithm exists as PEM files, generating it if not.

    The private key is created once and owner-only (see ``secret_file_ensure``); the public
    key is derived from whichever private key won, so processes racing to create the pair
    all end up with the same one.
    """
    from cryptography.hazmat.primitives import serialization

    private_pem = secret_file_ensure(
        path=private_path, make=lambda: _private_key_pem(algorithm=algorithm)
    )
    key = serialization.load_pem_private_key(private_pem, password=None)
    secret_file_ensure(
        path=public_path,
        make=lambda: key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        mode=0o644,
    )


def _private_key_pem(*, algorithm: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"Key pairs are for {' or '.join(ALGORITHMS)}, not {algorithm}.")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
