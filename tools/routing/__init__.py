"""Vehicle routing (CVRP, VRPTW): instances, the OR-Tools adapter, the checker, ``plan_routes``.

Public API (other packages build on these names):

- :func:`tools.routing.instance.load_instance` -> :class:`~tools.routing.instance.RoutingInstance`
- :func:`tools.routing.ortools_adapter.solve` -> :class:`~tools.routing.result.RouteResult`
- :func:`tools.routing.checker.check_routes` (independent of the solver)
- :class:`tools.routing.guidance.Guidance` (what a guidance provider hands the adapter)
- :func:`tools.routing.plan_tool.plan_routes` (the contract tool)
"""
