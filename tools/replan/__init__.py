"""Events on a stored plan (``replan``) and solver-computed explanations (``explain_plan``).

- :mod:`tools.replan.roads`: which arcs a closed road makes unusable, and the detours around it.
- :mod:`tools.replan.timeline`: the plan's state (events so far) and an event-aware schedule
  simulator that equals :func:`tools.routing.checker.check_routes` when there are no events.
- :mod:`tools.replan.remainder`: the OR-Tools model of what is left to do at a moment of the day
  (vehicles start where they are, served stops stay served, a penalty for moving orders).
- :mod:`tools.replan.replan_tool` / :mod:`tools.replan.explain_tool`: the two contract tools.
"""
