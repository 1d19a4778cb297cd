"""Building blocks for modelops' self-contained HTML reports (the demo's, and
`modelops drift report`'s): nothing in here knows about a particular report.

html     escaped HTML fragments, tables, badges and the one-file `Page` (inline CSS)
figures  matplotlib, imported lazily (the optional `report` extra): a figure as
         inline SVG, a line plot against a threshold, reference-vs-observed bars
style    the colours every report and the live view share
"""
