"""`modelops drift report`: the operator's drift measurement on a data file, as HTML.

measure  the profile, the features and the operator's maths (no re-implementation)
page     the self-contained HTML report (modelops_cli.reports)
view     the terminal summary (rich)
command  the click command, its exit codes and its one-line errors
"""
