"""The command line: the demo, the purchase benchmark's output contract, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sim.cli import main


def test_demo_prints_the_balance_and_log() -> None:
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "TACs verified by the back office: 4/4" in result.output
    assert "balance: 44.18 CNY" in result.output  # 50.00 - 1.82 (bus at 91%) - 4.00 (metro)
    assert result.output.count("  #") == 4


def test_demo_is_reproducible_and_sm4_works() -> None:
    first = CliRunner().invoke(main, ["demo", "--seed", "5", "--algorithm", "sm4"])
    second = CliRunner().invoke(main, ["demo", "--seed", "5", "--algorithm", "sm4"])
    assert first.exit_code == 0 and first.output == second.output
    assert "(SM4)" in first.output


def test_bad_amount_is_one_line_error_without_traceback() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "sim", "demo", "--load", "12.345"], capture_output=True, text=True, check=False
    )
    assert process.returncode == 1
    assert process.stderr.strip() == "cardtwin: error: --load: '12.345' is not an amount in yuan (e.g. 12.50)"
    assert "Traceback" not in process.stderr


def test_load_over_card_maximum_is_a_clean_error() -> None:
    result = CliRunner().invoke(main, ["demo", "--load", "2000"])
    assert result.exit_code == 1
    assert "INITIALIZE FOR LOAD: card answered 6A84" in result.output


def test_bench_purchase_prints_the_contract_line() -> None:
    result = CliRunner().invoke(main, ["bench", "purchase", "--count", "50"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"purchases_per_s=\d+ crypto_floor_per_s=\d+ c_floor_per_s=(\d+|na) ratio=\d+\.\d\d", last
    )
    # The block operations are counted from a real purchase: PSAM diversification (2 blocks of
    # 3DES), two session keys (1 each), MAC1 made and checked (3 DES blocks each), the TAC (3),
    # MAC2 made and checked (1 each); three contexts set up (the session key both sides derive
    # once and share, its MAC key, the TAC key), the master key's kept.
    assert "per_purchase cipher_contexts_set_up=3 cipher_calls=8 blocks=15 single_des_ops=23" in result.output


def test_bench_day_counts_the_night_and_ends_with_cpu_and_bytes() -> None:
    args = ["bench", "day", "--cardholders", "20000", "--sample", "0.01", "--clearing", "backoffice"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    last = lines[-1]
    assert re.fullmatch(
        r"cpu_s=\d+\.\d wall_s=\d+\.\d tx_per_cpu_s=\d+ cpu_us_per_tx=\d+ bytes_per_citizen=\d+", last
    )
    figures = dict(item.split("=", 1) for item in lines[1].split() if "=" in item)
    # The opening balances are the clearing house's opening float, not loads: every transaction
    # counted is one of the day's taps or loads, and 200 citizens make a few hundred of them.
    assert 200 <= int(figures["tx"]) <= 2_000
    assert float(figures["night_cpu_s"]) > 0  # the clearing house's night ran and was counted
    assert "full_scale_estimate cardholders=20000" in result.output


@pytest.mark.parametrize("table", ["0,2", "1,x", "65"])
def test_bench_day_refuses_a_bad_shards_table(table: str) -> None:
    result = CliRunner().invoke(main, ["bench", "day", "--shards-table", table])
    assert result.exit_code == 2
    assert "'--shards-table'" in result.output
