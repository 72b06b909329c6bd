"""The stakeholders' dashboard: a Streamlit app that runs rollout scenarios and plays them back.

A viewer picks a shipped or uploaded rollout scenario, changes a few parameters, runs it and
watches it month by month against the plan's targets. Modules, flat:

- `app` is the Streamlit script (`cardtwin dashboard` starts it); `sidebar` takes the inputs,
  `params` the parameters a viewer may change, `runner` loads and runs (with a run cache),
  `state` and `playback` keep the session and the month being played;
- `view_play` (KPIs, city map) and `view_more` (flows, comparison, downloads) are the views;
- `fig_common`, `fig_kpi`, `fig_city`, `fig_flows` draw the figures, `pngcache` keeps them,
  `frames` builds the tables, `downloads` what a viewer takes away, `i18n` every label in
  English and Chinese;
- `bench` times the app without a browser.

The dashboard sits above `sim`: the figures it shows are those of `sim.rollout`'s result (the
city map only recomputes its coverage shading, by the rollout engine's definition).
"""
