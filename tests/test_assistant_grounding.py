"""Numbers and slots in a dispatcher's words, English and Chinese (no model involved)."""

from __future__ import annotations

import pytest

from assistant.faithfulness import unbacked_numbers
from assistant.numbers import numbers_in_text, to_digits
from assistant.slots import stated_slots


def test_number_words_and_units():
    assert {26.0, 120.0} <= numbers_in_text("twenty-six trucks, a 2 minute budget")
    assert {3.0, 26.0} <= numbers_in_text("第三辆车坏了，用二十六辆车")
    # dataset names are not numbers
    assert 101.0 not in numbers_in_text("route X-n101-k25")
    assert to_digits("两分钟") == "2分钟"


@pytest.mark.parametrize(("tool", "args", "text", "expected"), [
    ("plan_routes", {}, "Route X-n101-k25 with 26 trucks, keep it under 30 seconds", {"num_vehicles": 26, "time_limit_s": 30}),
    ("plan_routes", {}, "用二十六辆车规划demo-city，两分钟内", {"num_vehicles": 26, "time_limit_s": 120}),
    ("plan_routes", {}, "plan demo-city, capacity 900 kg", {"vehicle_capacity": 900}),
    ("replan", {"event": "vehicle_breakdown"}, "truck 4 just broke down at 10:30", {"vehicle": 4, "at": "10:30"}),
    ("replan", {"event": "vehicle_breakdown"}, "4号车十点半抛锚了", {"vehicle": 4, "at": "10:30"}),
    ("replan", {"event": "traffic_delay"}, "van 3 is stuck in traffic, 25 minutes late", {"vehicle": 3, "minutes": 25}),
    ("replan", {"event": "cancel_orders"}, "cancel orders 12, 17 and 30", {"orders": [12, 17, 30]}),
    ("replan", {"event": "new_orders"}, "新增订单101、102", {"orders": [101, 102]}),
    ("explain_plan", {"question": "why_late"}, "why is order 17 late?", {"order": 17}),
    ("explain_plan", {"question": "what_if_move"}, "what if we move order 12 to truck 3", {"order": 12, "vehicle": 3}),
    ("explain_plan", {"question": "what_if_fleet"}, "what if we had 20?", {"num_vehicles": 20}),
])
def test_stated_slots(tool, args, text, expected):
    assert stated_slots(tool, args, text) == expected


def test_ambiguous_numbers_are_left_alone():
    # two different fleet sizes: nothing is stated beyond doubt
    assert "num_vehicles" not in stated_slots("plan_routes", {}, "compare 20 trucks and 25 trucks")
    assert "vehicle" not in stated_slots("replan", {"event": "vehicle_breakdown"}, "truck 4 or truck 5 broke down")


def test_faithfulness_allows_rounding_and_ids_but_not_inventions():
    facts = [{"cost": 28523.4, "gap_pct": 3.38, "plan_id": "plan-7"}]
    assert unbacked_numbers("plan-7 costs 28523 (3.4% above best)", facts, []) == []
    assert unbacked_numbers("it saves 900 km", facts, []) == [900.0]
    assert unbacked_numbers("with 26 trucks it costs 28523", facts, ["use 26 trucks"]) == []


def test_context_keeps_the_current_turn_and_whole_recent_turns():
    from assistant.backends import fit_context

    msgs = [{"role": "user", "content": f"turn {i}"} if i % 3 == 0 else
            {"role": "tool" if i % 3 == 1 else "assistant", "content": "x" * 50} for i in range(12)]
    count = lambda m: sum(len(x["content"]) for x in m)  # noqa: E731
    kept = fit_context(msgs, count, 220)  # two turns of 106 characters fit, three do not
    assert kept[0]["role"] == "user" and kept[0]["content"] == "turn 6"
    assert kept[-3:] == msgs[-3:]


def test_spoken_durations():
    assert {60.0, 3600.0} <= numbers_in_text("van 2 is held up for an hour")
    assert {30.0, 1800.0} <= numbers_in_text("about half an hour behind")
    assert 90.0 in numbers_in_text("堵了一个半小时")
    assert stated_slots("replan", {"event": "traffic_delay"}, "van two is stuck for half an hour") == {"vehicle": 2, "minutes": 30}


@pytest.mark.parametrize(("text", "orders"), [
    ("three more drops to add: 41, 42, 57", [41, 42, 57]),
    ("customer pulled #8 and #15", [8, 15]),
    ("van 2 got 2 extra orders: 70, 71", [70, 71]),
    ("加单：61、62，10:30以后", [61, 62]),
])
def test_order_lists_without_the_word_order(text, orders):
    assert stated_slots("replan", {"event": "new_orders"}, text)["orders"] == orders


def _ground(tool, args, text):
    from assistant.grounding import Focus, ground_call

    return ground_call(tool, args, text, Focus())


def test_enumerated_choices_follow_the_users_words():
    # invented objective dropped, stated one set, a negated GNN mention means no guidance
    assert _ground("plan_routes", {"dataset": "demo-city", "objective": "balance"}, "route demo-city with 9 vans").args == \
        {"dataset": "demo-city", "num_vehicles": 9}
    assert _ground("plan_routes", {"dataset": "demo-city"}, "route demo-city, nobody should arrive late").args == \
        {"dataset": "demo-city", "objective": "lateness"}
    assert _ground("plan_routes", {"dataset": "demo-city", "guidance": "gnn"}, "demo-city but switch the GNN off").args == \
        {"dataset": "demo-city", "guidance": "none"}
    assert _ground("schedule_jobs", {"dataset": "ft06", "method": "rl"}, "ft06 用先进先出排一下").args == \
        {"dataset": "ft06", "method": "fifo"}


def test_a_job_shop_dataset_moves_the_call_to_the_scheduler():
    # demo-shop ships with the project, so this holds without the shared benchmarks too
    g = _ground("plan_routes", {"dataset": "demo-shop"}, "demo-shop please, most work remaining first")
    assert g.tool == "schedule_jobs" and g.args == {"dataset": "demo-shop", "method": "mwkr"} and g.question is None


def test_a_named_but_missing_dataset_goes_to_the_tool_not_a_question():
    g = _ground("plan_routes", {"dataset": "demo-city"}, "plan the west-yard-7 orders with 4 trucks")
    assert g.question is None and g.args == {"dataset": "west-yard-7", "num_vehicles": 4}
    # hyphenated words of the trade are not dataset names: nothing named, so ask
    assert _ground("plan_routes", {"dataset": "zz-made-up"}, "a GNN-guided plan, on-time please").question


def test_a_road_named_off_the_map_goes_to_the_tool():
    from assistant.grounding import _road_phrase

    assert _road_phrase("Lakeside Avenue is shut for a parade") == "Lakeside Avenue"
    assert _road_phrase("人民路封了，重新排") == "人民路"
    assert _road_phrase("a road is closed somewhere") is None


@pytest.mark.parametrize(("text", "place"), [
    ("smoke pouring from a trailer on Canal Street, what now", "Canal Street"),
    ("chemical smell at dock 4, any past cases?", "dock 4"),
    ("the west yard is flooded again", None),  # no preposition, no known place: left out
    ("人民路隧道积水了", "人民路隧道"),
    ("冷库中心停电", "冷库中心"),
])
def test_incident_places_from_the_users_words(text, place):
    from assistant.grounding import _place_named

    assert _place_named(text) == place


@pytest.mark.parametrize(("tool", "args", "text", "expected"), [
    ("replan", {"event": "new_orders", "orders": [4]}, "van 4 won't start", {"event": "vehicle_breakdown", "vehicle": 4}),
    ("replan", {"event": "vehicle_breakdown", "vehicle": 31}, "customer 31 called off the delivery", {"event": "cancel_orders", "orders": [31]}),
    ("replan", {"event": "cancel_orders", "orders": [2]}, "2号车在高架上堵了20分钟", {"event": "traffic_delay", "vehicle": 2, "minutes": 20}),
    ("explain_plan", {"question": "summary", "order": 8}, "how come order 8 arrives late", {"question": "why_late", "order": 8}),
    ("explain_plan", {"question": "why_late"}, "give me a recap of the plan", {"question": "summary"}),
])
def test_the_event_or_question_follows_the_users_words(tool, args, text, expected):
    from assistant.grounding import Focus, ground_call
    from tools.registry import run_tool

    run_tool("plan_routes", {"dataset": "demo-small", "time_limit_s": 1})
    g = ground_call(tool, args, text, Focus())
    assert g.question is None
    assert {k: v for k, v in g.args.items() if k != "plan_id"} == expected


def test_advice_on_an_incident_is_a_case_search_not_a_fleet_operation():
    from assistant.grounding import Focus, ground_call
    from tools.registry import run_tool

    run_tool("plan_routes", {"dataset": "demo-small", "time_limit_s": 1})
    g = ground_call("replan", {"event": "road_closure"}, "chlorine leak near Gate 5, how should we respond?", Focus())
    assert g.tool == "search_emergency_cases" and g.args["incident_type"] == "hazmat_spill" and g.question is None
    # a breakdown is a fleet event, even when the dispatcher asks what to do
    g = ground_call("replan", {"event": "vehicle_breakdown", "vehicle": 6}, "van 6 broke down, what do we do?", Focus())
    assert g.tool is None and g.args["event"] == "vehicle_breakdown"


def test_a_rerun_keeps_the_plan_in_focus_settings():
    from assistant.grounding import Focus, ground_call

    focus = Focus(dataset="demo-city", plan_id="plan-1", plan_args={"num_vehicles": 12, "guidance": "none"})
    g = ground_call("plan_routes", {"dataset": "demo-city", "time_limit_s": 120}, "and give the solver 2 minutes this time",
                    focus)
    assert g.args == {"dataset": "demo-city", "time_limit_s": 120, "num_vehicles": 12, "guidance": "none"}
    # what the user changes wins; a newly named dataset starts from the tool's defaults
    g = ground_call("plan_routes", {"dataset": "demo-city", "num_vehicles": 14}, "rerun it with 14 vans", focus)
    assert g.args["num_vehicles"] == 14 and g.args["guidance"] == "none"
    g = ground_call("plan_routes", {"dataset": "demo-small"}, "route demo-small", focus)
    assert "num_vehicles" not in g.args and "guidance" not in g.args


@pytest.mark.parametrize(("text", "name"), [
    ("routing for cold-store-b, we care about punctuality above all", "cold-store-b"),
    ("cold-store-b排线，守时第一", "cold-store-b"),
    ("the cold-chain failed on truck 3", None),
    ("a follow-up on the rear-end crash", None),
])
def test_a_three_part_name_is_a_dataset_but_a_trade_word_is_not(text, name):
    from assistant.grounding import _unknown_dataset_named

    assert _unknown_dataset_named(text, None) == name
