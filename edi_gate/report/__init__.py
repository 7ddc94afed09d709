"""What people read at the end of a run: the terminal summary table and replay's HTML report.

Kept apart from the pipeline: these modules only read the tallies a run already produced
(``filter.Summary``, replay's ``summary.json`` data), so they never slow the claim path.
"""
