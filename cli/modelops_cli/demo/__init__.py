"""`modelops demo`: the whole loop on a real local node, played in three acts.

timeline         what the demo saw (samples, events, acts, versions) as plain data
series           numbers derived from a timeline (shares, error rates, fates, ...)
view             the live terminal view (rich), a pure function of the timeline
summary          summary.json: each act's outcome and figures, the headline numbers
report           report.html (one self-contained file) and summary.json
report_figures   the report's plots; report_versions: its model version cards
commands         the click group (`modelops demo report TIMELINE.json`)
"""
