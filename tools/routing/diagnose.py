"""Why a routing request cannot be met: causes in words, never a bare "no solution".

:func:`quick_causes` finds the provable causes in milliseconds (demand against capacity, windows
that cannot be reached from the depot, ...). When the solver still finds nothing, the adapter
adds what it learned (e.g. how late the best soft-window plan is) via :func:`no_solution_causes`.
"""

from __future__ import annotations

import math

from tools.routing.instance import RoutingInstance


def quick_causes(inst: RoutingInstance, max_listed: int = 8) -> list[str]:
    """Provable reasons the request is infeasible (empty when none is found)."""
    causes: list[str] = []
    cap, fleet = inst.capacity, inst.num_vehicles
    demand = inst.demand
    too_big = [inst.customer_ids[i] for i in range(1, inst.num_nodes) if demand[i] > cap]
    if too_big:
        causes.append(f"{len(too_big)} order(s) need more than one vehicle's capacity {cap}: "
                      f"{_ids(too_big, max_listed)} (largest demand {int(demand.max())})")
    total = int(demand.sum())
    if total > cap * fleet:
        need = math.ceil(total / cap)
        causes.append(f"total demand {total} is above the fleet's capacity {fleet} x {cap} = {fleet * cap}; "
                      f"at least {need} vehicles of capacity {cap} (or capacity {math.ceil(total / fleet)} "
                      f"for {fleet} vehicles) are needed")
    if inst.has_time_windows:
        assert inst.ready is not None and inst.due is not None and inst.service is not None
        dur, ready, due, service = inst.duration, inst.ready, inst.due, inst.service
        fmt = _fmt_time(inst)
        unreachable, no_return = [], []
        for i in range(1, inst.num_nodes):
            arrive = int(ready[0]) + int(dur[0, i])
            if arrive > due[i]:
                unreachable.append(f"order {inst.customer_ids[i]} (window closes {fmt(due[i])}, "
                                   f"earliest arrival {fmt(arrive)})")
                continue
            back = max(arrive, int(ready[i])) + int(service[i]) + int(dur[i, 0])
            if back > due[0]:
                no_return.append(f"order {inst.customer_ids[i]} (back at {fmt(back)} at the earliest)")
        if unreachable:
            causes.append(f"{len(unreachable)} customer window(s) cannot be reached from the depot in time: "
                          + "; ".join(unreachable[:max_listed]))
        if no_return:
            causes.append(f"{len(no_return)} order(s) cannot be served and still return before the depot closes "
                          f"at {fmt(due[0])}: " + "; ".join(no_return[:max_listed]))
    return causes


def no_solution_causes(inst: RoutingInstance, late_orders: list[int] | None = None,
                       vehicles_needed: int | None = None, seconds: float | None = None) -> list[str]:
    """Causes when the solver found no plan although no provable cause exists."""
    causes: list[str] = []
    if inst.has_time_windows:
        if late_orders:
            causes.append(f"too few vehicles for the time windows: with {inst.num_vehicles} vehicles the best plan "
                          f"found is late for orders {_ids(late_orders, 10)}; try more vehicles or objective=lateness")
        else:
            causes.append(f"no plan meeting every time window with {inst.num_vehicles} vehicles was found"
                          f"{f' in {seconds:g} s' if seconds else ''}; the windows are tight for this fleet "
                          "(try more vehicles, a longer time limit or objective=lateness)")
    else:
        lb = math.ceil(int(inst.demand.sum()) / inst.capacity)
        causes.append(f"no way to pack the orders into {inst.num_vehicles} vehicles of capacity {inst.capacity} was "
                      f"found (at least {lb} are needed by total demand; packing needs more slack); "
                      "try more vehicles or a larger capacity")
    if vehicles_needed:
        causes.append(f"a plan meeting every window exists with {vehicles_needed} vehicles")
    return causes


def _ids(ids: list[int], k: int) -> str:
    head = ", ".join(map(str, ids[:k]))
    return head + (f" and {len(ids) - k} more" if len(ids) > k else "")


def _fmt_time(inst: RoutingInstance):
    def fmt(t: float) -> str:
        clock = inst.clock(t)
        return clock if clock is not None else f"{inst.real_time(t):g}"
    return fmt
