"""Card images on disk: a simulated card's whole persistent state (`CardState.to_image`), so a
failure seen on a served card can be reproduced later (`cardtwin card serve --image`,
`card restore`, `card dump`).

The file is the image bytes as they are (at most IMAGE_BYTES_MAX), written aside and renamed,
so a crash mid-write never leaves half an image. The image holds the card's keys: test cards
only.
"""

from __future__ import annotations

import os
from pathlib import Path

from devices.card_os import CardOS
from devices.card_state import CardImageError, CardState
from devices.sim_channel import SimChannel
from model.card import PublicInfo, read_card
from model.money import format_fen

IMAGE_BYTES_MAX = 16_384  # a card image is a few hundred bytes


def read_image(path: Path) -> CardState:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CardImageError(f"{path}: cannot read the card image ({exc.strerror or exc})") from None
    if not 0 < len(raw) <= IMAGE_BYTES_MAX:
        raise CardImageError(f"{path}: {len(raw)} bytes is no card image (1..{IMAGE_BYTES_MAX})")
    try:
        return CardState.from_image(raw)
    except CardImageError as exc:
        raise CardImageError(f"{path}: {exc}") from None


def write_image(path: Path, state: CardState) -> None:
    aside = path.with_name(path.name + ".part")
    try:
        aside.write_bytes(state.to_image())
        os.replace(aside, path)
    except OSError as exc:
        raise CardImageError(f"{path}: cannot write the card image ({exc.strerror or exc})") from None


def describe_image(state: CardState) -> list[str]:
    public = PublicInfo.decode(state.public)
    lines = [
        f"card {public.asn.hex().upper()} issuer {public.issuer_id.hex().upper()} ({state.algorithm.name})",
        f"valid {public.start} to {public.expiry}, type {public.card_type.name.lower()}"
        + (", BLOCKED" if state.blocked else ""),
        f"EP balance {format_fen(state.ep_balance_fen)} CNY, online counter {state.ep_online_counter}, "
        f"offline counter {state.ep_offline_counter}",
        f"ED balance {format_fen(state.ed_balance_fen)} CNY, online counter {state.ed_online_counter}, "
        f"offline counter {state.ed_offline_counter}",
        f"maximum balance {format_fen(state.max_balance_fen)} CNY, "
        f"overdraft {format_fen(state.overdraft_limit_fen)} CNY, PIN tries left {state.pin_tries_left}",
        f"log ({len(state.log)} records, newest first):",
    ]
    if state.blocked:
        return [*lines, "  (a blocked card answers no READ RECORD)"]
    # The log as a terminal reads it: through the card's own APDUs, on a copy of the state.
    info = read_card(SimChannel(CardOS(CardState.from_image(state.to_image()))))
    for entry in info.log:
        lines.append(
            f"  #{entry.counter:<3} type {entry.tx_type:02X} {format_fen(entry.amount_fen):>8}  "
            f"terminal {entry.terminal_id.hex().upper()}  {entry.moment:%Y-%m-%d %H:%M:%S}"
        )
    return lines
