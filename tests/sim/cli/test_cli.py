"""The command line: the demo, the purchase benchmark's output contract, one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys

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
    # MAC2 made and checked (1 each); five contexts set up (two session keys, two MAC keys, the
    # TAC key), the master key's kept.
    assert "per_purchase cipher_contexts_set_up=5 cipher_calls=8 blocks=15 single_des_ops=23" in result.output
