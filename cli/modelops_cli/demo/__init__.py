"""`modelops demo`: the whole loop on a real local node, played in three acts.

timeline  what the demo saw (samples, events, acts, versions) as plain data
"""
