"""`cardtwin keys new`: write a reproducible TEST issuer key file (TOML, mode 0600).

The keys come from `model.security.generate_issuer_keys` (a seed and the issuer ID): fine for
simulated cards and test cards personalised with them, never for a real issuer. The file is
created 0600 (owner only) and never overwritten unless `--force`.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from model.errors import CardTwinError
from model.security import generate_issuer_keys, issuer_keys_toml
from sim.cli.options import seed_option

KEY_FILE_MODE = 0o600


class KeyFileError(CardTwinError):
    """A key file that cannot be written."""


@click.group()
def keys() -> None:
    """Issuer key files for test cards."""


@keys.command("new")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The key file to write (TOML).",
)
@click.option(
    "--issuer", "issuer_hex", default="3301000000000001", show_default=True, help="Issuer ID, 8 bytes in hex."
)
@seed_option("Seed of the test keys.", default=1, show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def keys_new(out: Path, issuer_hex: str, seed: int, force: bool) -> None:
    """Write a TEST issuer key file (0600) that `--keys` options read."""
    try:
        issuer = bytes.fromhex(issuer_hex)
    except ValueError:
        raise KeyFileError(f"--issuer {issuer_hex!r}: not hex") from None
    if len(issuer) != 8:
        raise KeyFileError(f"--issuer {issuer_hex!r}: {len(issuer)} bytes, an issuer ID has 8")
    text = issuer_keys_toml(generate_issuer_keys(seed=seed, issuer_id=issuer))
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        descriptor = os.open(out, flags, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyFileError(f"--out {out}: exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"--out {out}: cannot write it ({exc.strerror or exc})") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), KEY_FILE_MODE)  # also when --force reused an older file
        handle.write(text)
    click.echo(f"TEST issuer keys for {issuer.hex().upper()} (seed {seed}) written to {out} (mode 0600)")
