"""The search methods the staged core (:mod:`matcher.solver`) combines, each deterministic:
the same model, budget and seed give the same answer whatever the machine's load.

- :mod:`~matcher.search.cpsat`: CP-SAT on the whole model, budgeted in deterministic time;
- :mod:`~matcher.search.relaxation`: the linear relaxation of a day stage (GLOP), its bound,
  and a cost-aware first solution rounded from it;
- :mod:`~matcher.search.lns`: large-neighbourhood search over groups of providers, each
  neighbourhood re-solved exactly by a small CP-SAT model.
"""
