"""Generate the asymmetric JWT key pairs that local runs, the cluster and the bench use."""

from pathlib import Path

ALGORITHMS = ("RS256", "EdDSA")


def key_pair_write(*, algorithm: str, private_path: Path, public_path: Path) -> None:
    """Write a new key pair for the algorithm as PEM files; the private one readable by us only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"Key pairs are for {' or '.join(ALGORITHMS)}, not {algorithm}.")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
