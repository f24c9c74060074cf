"""File formats, in and out: instance files (:mod:`~matcher.formats.files`, JSON and YAML,
written atomically), a council's CSV or .xlsx spreadsheets (:mod:`~matcher.formats.csv`)
and allocations and shortlists as spreadsheets (:mod:`~matcher.formats.spreadsheets`).

A new export format goes here. Formats translate; they decide nothing, and they stand on
the model, the ranking and the result only (never the solver or the register).
"""
