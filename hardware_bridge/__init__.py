"""The hardware bridge: real PC/SC cards and PSAMs in the loop, and simulated chips in readers.

- `pcsc_channel.PcscChannel`: a `model.card.channel.CardChannel` on pyscard/pcscd (T=0 GET RESPONSE,
  6Cxx resend, removal as `CardRemovedError`, reconnect after a card swap).
- `vpcd.VpcdServer`: serves any chip with `process`/`power_on` on vsmartcard's vpcd socket, so
  pcscd presents it as a card; it can drop the card mid-command to lose a response for real.
- `trace`: bounded APDU traces with command names and status-word meanings.
- `hil` + `junit`: the conformance / HIL suite over any card and PSAM channels.
- `latency.LatencyChannel`: measured per-APDU latency, for the twin's real cards in a day.

For the city twin's "real cards in the loop" (not built yet): a tap of a chosen citizen gets
a `CardChannel` from `sim.cards.sources.open_source` (a real card: `pcsc:READER`; a simulated
card through PC/SC: one `VpcdServer` per reader and `present(chip)` per tap, then the
channel's `disconnect()` + `connect()`), wrapped in `LatencyChannel` to record the real
latency, and handed to the same terminal code as an in-process card
(tests/hardware_bridge/test_taps.py runs such taps and gets the same money as in process).

This package imports `model` only: simulated devices reach it through the `ServedChip` protocol
and the channel interface; the wiring to `devices` lives in `sim.cards.sources`.
"""
