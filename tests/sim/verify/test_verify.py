"""The verify campaign: a small campaign with every fault class on (run in CI every time), the
same seed giving the same report, and the campaign's checks catching money that goes wrong."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from devices.card_state import CardState
from sim.cli import main
from sim.day.night import Batch
from sim.verify import FAULTS, Report, parse_faults, run_seed
from sim.verify.campaign import Campaign
from sim.verify.faulty_day import FaultyPort

SAMPLE = 0.0002
CI_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def ci_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("verify")
    report = Report(frozenset(FAULTS), 2, SAMPLE)
    for seed in CI_SEEDS:
        report.results.append(run_seed(seed, frozenset(FAULTS), 2, SAMPLE, folder))
    return report


def test_ci_campaign_with_every_fault_finds_no_violation(ci_report: Report) -> None:
    totals = ci_report.totals()
    assert [r.violations for r in ci_report.results] == [[] for _ in CI_SEEDS]
    assert totals["violations"] == 0
    assert totals["transactions"] > 3_000
    # Every class really fired somewhere in the campaign, else the campaign proves nothing about it.
    assert all(n > 0 for n in totals["faults_injected"].values()), totals["faults_injected"]
    assert totals["power_loss_unflushed"] > 0
    # Every committed record reached the clearing house and was cleared or held.
    assert all(r.cleared + r.held == r.records for r in ci_report.results)


def test_same_seed_same_report(tmp_path: Path, ci_report: Report) -> None:
    again = run_seed(2, frozenset(FAULTS), 2, SAMPLE, tmp_path)
    first = next(r for r in ci_report.results if r.seed == 2)
    assert dataclasses.replace(again, wall_s=0.0, cpu_s=0.0) == dataclasses.replace(
        first, wall_s=0.0, cpu_s=0.0
    )


def test_the_report_counts_cpu_and_lines_up_every_class(ci_report: Report) -> None:
    # A seed's SIGKILLed and concurrent clearing processes are counted: more CPU than wall is
    # possible, none at all is not.
    assert all(r.cpu_s > 0.1 for r in ci_report.results)
    totals = ci_report.totals()
    assert totals["cpu_s"] == round(sum(r.cpu_s for r in ci_report.results), 1)
    text = ci_report.text()
    assert text[-1] == f"cpu_s {totals['cpu_s']:.1f} (every seed's process and its children, user + system)"
    rows = [line for line in text if line.split(" ")[0] in totals["faults_injected"]]
    assert len(rows) == len(totals["faults_injected"]) and len({len(row) for row in rows}) == 1


class _LosingPort(FaultyPort):
    """A network that silently loses the first upload that moves money (a metro gate's entries
    are 0 fen: losing them loses records, not money; the issuance batch of loads that used to
    come first is gone, the opening float is booked instead)."""

    lost = False

    def receive(self, batch: Batch) -> None:
        super().receive(batch)
        if not self.lost and any(r.amount_fen for r in batch.records):
            self.lost = True
            self.transit.pop()


def test_a_lost_upload_is_a_violation(tmp_path: Path) -> None:
    campaign = Campaign(5, frozenset(), 1, SAMPLE, tmp_path / "c.sqlite")
    campaign.period.port = _LosingPort(campaign.world, campaign.truth)
    result = campaign.run()
    assert any("every uploaded record is cleared, held, or still in transit" in v for v in result.violations)
    assert any("cards = ledger float" in v for v in result.violations)


def test_money_appearing_on_a_card_is_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = Campaign(6, frozenset({"card-tear"}), 2, SAMPLE, tmp_path / "c.sqlite")
    run_day = campaign.period.run_day

    def minting(d: int) -> None:
        run_day(d)
        images = campaign.world.population.images
        state = CardState.from_image(images[0])
        state.ep_balance_fen += 100  # money from nowhere
        images[0] = state.to_image()

    monkeypatch.setattr(campaign.period, "run_day", minting)
    result = campaign.run()
    assert any("card balance = balance brought forward" in v for v in result.violations)
    assert any("cards = ledger float" in v for v in result.violations)


def test_fault_names() -> None:
    assert parse_faults("all") == frozenset(FAULTS)
    assert parse_faults("none") == frozenset()
    assert parse_faults("card-tear, clock-skew") == {"card-tear", "clock-skew"}


def test_cli_refuses_an_unknown_fault_in_one_line() -> None:
    result = CliRunner().invoke(main, ["verify", "--faults", "card-tear,meteor"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "cardtwin: error: --faults: unknown fault class meteor (allowed: all, none, "
        + ", ".join(FAULTS)
        + ")"
    ]


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--days", "99"], ["--sample", "0.5"]])
def test_cli_refuses_out_of_range(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["verify", *args])
    assert result.exit_code == 1
    assert result.output.startswith("cardtwin: error: --")


def test_cli_replays_one_seed_and_writes_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "verify",
            "--seed",
            "4",
            "--faults",
            "upload-corrupt,clearing-crash",
            "--days",
            "1",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "verify-report.json").read_text())
    assert doc["totals"]["seeds"] == 1 and doc["totals"]["violations"] == 0
    assert set(doc["totals"]["faults_injected"]) == {"upload-corrupt", "clearing-crash"}
    assert doc["seeds"][0]["replay"] == (
        "cardtwin verify --seed 4 --faults upload-corrupt,clearing-crash --days 1 --sample 0.0002"
    )
    assert "invariant violations 0" in (tmp_path / "verify-report.txt").read_text()
