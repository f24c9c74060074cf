"""The councils' counties as data, and the generator calibrated to their documents.

- :mod:`~matcher.counties.lancashire`: Lancashire's districts, time slots, travel times and
  default settings (the specification the brief is drawn from);
- :mod:`~matcher.counties.generate`: a seeded, Lancashire-shaped instance of any size;
- :mod:`~matcher.counties.warwickshire`, :mod:`~matcher.counties.northamptonshire`: the
  other two councils' shapes, built on the same places and slots.

A new county goes here: its districts, slots and travel times as data, standing on
:mod:`matcher.model` alone (the engine never imports this package).
"""
