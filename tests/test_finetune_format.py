"""Chat format, parser and data generator of the assistant's own LLM (fast, no model needed)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from finetune.chatformat import CHAT_TEMPLATE, SYSTEM_PROMPT, format_calls, parse_assistant, render_prompt
from finetune.common import written_beside
from finetune.data import clock_phrase, en_words, generate, seconds_phrase, zh_words
from tools.contract import EVENTS, INCIDENT_TYPES, METHODS, OBJECTIVES, QUESTIONS, TOOL_NAMES, validate_call

CONV = [
    {"role": "user", "content": "Route X-n101-k25 with 26 trucks"},
    {"role": "assistant", "tool_calls": [{"name": "plan_routes", "arguments": {"dataset": "X-n101-k25", "num_vehicles": 26}}]},
    {"role": "tool", "content": json.dumps({"plan_id": "plan-1", "cost": 27591.0})},
    {"role": "assistant", "content": "Plan plan-1: total cost 27591.0."},
    {"role": "user", "content": "3号车抛锚了"},
]


def test_jinja_template_renders_like_python() -> None:
    from jinja2 import Environment

    env = Environment()
    env.filters["tojson"] = lambda x: json.dumps(x, ensure_ascii=False)
    text = env.from_string(CHAT_TEMPLATE).render(messages=CONV, add_generation_prompt=True)
    assert text == render_prompt(CONV)
    assert text.startswith(f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n")
    assert text.endswith("<|im_start|>user\n3号车抛锚了<|im_end|>\n<|im_start|>assistant\n")
    # OpenAI-shaped tool calls with JSON-string arguments render the same line
    oa = [dict(m) for m in CONV]
    oa[1] = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
        "name": "plan_routes", "arguments": json.dumps({"dataset": "X-n101-k25", "num_vehicles": 26})}}]}
    assert env.from_string(CHAT_TEMPLATE).render(messages=oa, add_generation_prompt=True) == text


def test_round_trip_calls() -> None:
    calls = [{"name": "replan", "arguments": {"event": "new_orders", "orders": [5, 7]}},
             {"name": "explain_plan", "arguments": {"question": "summary"}}]
    parsed = parse_assistant(format_calls(calls) + "<|im_end|>")
    assert parsed.calls == calls and parsed.answer == "" and not parsed.malformed
    got_calls, answer = parse_assistant("No tool needed. 你好！")
    assert got_calls == [] and answer == "No tool needed. 你好！"


@pytest.mark.parametrize("text", [
    '<tool_call>{"name": "plan_routes", "arguments": {"dataset": "C101"</tool_call>',  # truncated JSON
    '<tool_call>{"arguments": {}}</tool_call>',  # no name
    '<tool_call>{"name": "plan_routes", "arguments": [1, 2]}</tool_call>',  # arguments not an object
    '<tool_call></tool_call>',
    'oops </tool_call>',
    '<tool_call>{"name": "plan_routes", "arguments": {"dataset": "C1',  # cut off mid-generation
])
def test_malformed_output_gives_no_call_and_the_raw_text(text: str) -> None:
    parsed = parse_assistant(text)
    calls, answer = parsed
    assert calls == [] and parsed.malformed and parsed.errors
    assert answer == text.strip()


def test_string_arguments_are_accepted() -> None:
    parsed = parse_assistant('<tool_call>{"name": "schedule_jobs", "arguments": "{\\"dataset\\": \\"ft10\\"}"}</tool_call>')
    assert parsed.calls == [{"name": "schedule_jobs", "arguments": {"dataset": "ft10"}}]


def test_numbers_and_units() -> None:
    assert en_words(26) == "twenty-six" and en_words(101) == "one hundred and one"
    assert zh_words(26) == "二十六" and zh_words(2, measure=True) == "两" and zh_words(12) == "十二"
    assert zh_words(105) == "一百零五"
    rng = random.Random(3)
    for _ in range(200):
        phrase, secs = seconds_phrase(rng, "en")
        if "minute" in phrase and phrase.split()[0].isdigit():
            assert secs == int(phrase.split()[0]) * 60
        text, hhmm = clock_phrase(rng, "zh")
        assert len(hhmm) == 5 and hhmm[2] == ":"


def test_generator_covers_the_contract_and_validates() -> None:
    rows = generate(1500, seed=7)
    seen: set = set()
    langs = set()
    for r in rows:
        langs.add(r["lang"])
        user = None
        for m in r["messages"]:
            if m["role"] == "user":
                user = m["content"]
            for c in m.get("tool_calls") or []:
                validate_call(c["name"], c["arguments"])
                seen.add(c["name"])
                seen.update((k, v) for k, v in c["arguments"].items() if isinstance(v, str) and k != "dataset"
                            and k not in ("query", "location", "at", "plan_id"))
                for key in ("query", "location"):  # copied text is the user's text as typed
                    if key in c["arguments"]:
                        assert c["arguments"][key] in user
    assert langs == {"en", "zh"}
    assert set(TOOL_NAMES) <= seen
    for key, values in (("objective", OBJECTIVES), ("event", EVENTS), ("question", QUESTIONS), ("method", METHODS),
                        ("incident_type", INCIDENT_TYPES), ("guidance", ("gnn", "none"))):
        assert {(key, v) for v in values} <= seen, key
    assert generate(5, seed=1) == generate(5, seed=1)


def test_breadth_two_adds_phrasings_and_leaves_the_shipped_seeds_alone() -> None:
    from finetune.data import data_hash

    # breadth 1 is the generator the shipped data seeds were drawn with: its stream must not move
    assert data_hash(generate(200, seed=9)) == "a8d3749e4f98e039"
    wide = generate(1500, seed=7, breadth=2)
    assert data_hash(generate(200, seed=9, breadth=2)) != "a8d3749e4f98e039"
    users = []
    for r in wide:
        for m in r["messages"]:
            if m["role"] == "user":
                users.append(m["content"].lower())
            for c in m.get("tool_calls") or []:
                validate_call(c["name"], c["arguments"])
    text = "\n".join(users)
    # breakdown phrasings that only breadth 2 has
    markers = ["gearbox", "kaput", "towed", "workshop", "stranded", "overheated", "dead battery", "engine trouble",
               "unavailable", "won't move", "quit on us", "送修", "熄火", "罢工", "动不了", "电瓶", "变速箱", "拖走"]
    assert sum(text.count(k) for k in markers) >= 5
    narrow = "\n".join(m["content"].lower() for r in generate(1500, seed=7) for m in r["messages"] if m["role"] == "user")
    assert sum(narrow.count(k) for k in markers) == 0
    with pytest.raises(ValueError, match=r"breadth must be one of \(1, 2, 3\), got 4"):
        generate(3, seed=1, breadth=4)


def test_breadth_three_carries_settings_asks_for_two_tools_and_spaces_latin_in_chinese() -> None:
    from finetune.data import data_hash, spaced_latin

    # breadth 2 (the shipped fourth round, seed 12) must not move either
    assert data_hash(generate(500, seed=12, breadth=2)) == "4b70280639a0450e"
    rows = generate(2000, seed=13, breadth=3)
    two_call = carried = follow_ups = spaced = 0
    for r in rows:
        ms = r["messages"]
        calls = [m["tool_calls"] for m in ms if m.get("tool_calls")]
        for group in calls:
            for c in group:
                validate_call(c["name"], c["arguments"])
        two_call += sum(len(g) == 2 and g[0]["name"] != g[1]["name"] for g in calls)
        routes = [g[0]["arguments"] for g in calls if len(g) == 1 and g[0]["name"] == "plan_routes"]
        for before, now in zip(routes, routes[1:], strict=False):
            follow_ups += 1
            # a follow-up keeps every earlier setting it does not change
            assert set(before) <= set(now), (before, now)
            carried += len(before) > 1
        spaced += r["lang"] == "zh" and any(m["role"] == "user" and " " in m["content"] for m in ms)
    assert two_call >= 60 and follow_ups >= 50 and carried >= 25 and spaced >= 100
    # every two-call turn is followed by one tool result per call
    for r in rows:
        ms = r["messages"]
        for i, m in enumerate(ms):
            if len(m.get("tool_calls") or []) == 2:
                assert [x["role"] for x in ms[i + 1:i + 3]] == ["tool", "tool"]
    assert spaced_latin("给C101排线，用8辆车") == "给 C101 排线，用 8 辆车"
    assert spaced_latin("“tg-songjiang-0916”排一下") == "“tg-songjiang-0916”排一下"
    assert spaced_latin("数据集east_dc_0312。") == "数据集 east_dc_0312。"


def _copied_names_and_places(rows: list[dict]) -> tuple[list[str], list[str]]:
    """Every call's dataset and location, each checked to be spelt out in what the user wrote."""
    names: list[str] = []
    places: list[str] = []
    for r in rows:
        users = " ".join(m["content"].lower() for m in r["messages"] if m["role"] == "user")
        for m in r["messages"]:
            for c in m.get("tool_calls") or []:
                validate_call(c["name"], c["arguments"])
                for key, into in (("dataset", names), ("location", places)):
                    value = c["arguments"].get(key)
                    if value is not None:
                        # copied, not recalled: the value is spelt out in what the user wrote
                        assert str(value).lower() in users, (value, users)
                        into.append(str(value))
    return names, places


def test_wide_names_draw_english_words_pinyin_and_jieba_places_that_the_request_spells_out() -> None:
    from finetune.data import _WORDS, _english_words, _zh_place_words, data_hash

    rows = generate(1500, seed=14, breadth=2, names="wide")
    assert data_hash(generate(500, seed=12, breadth=2, names="narrow")) == "4b70280639a0450e"
    english, zh_places = set(_english_words()), set(_zh_place_words())
    assert len(english) > 15000 and len(zh_places) > 10000
    names, places = _copied_names_and_places(rows)
    parts = {p for n in names for p in n.lower().replace("_", "-").split("-")}
    new_words = {p for p in parts if p in english and p not in _WORDS}
    assert len(new_words) >= 100
    # Chinese places from jieba's dictionary bring characters the narrow generator never draws
    narrow = {ch for r in generate(1500, seed=14, breadth=2) for m in r["messages"] for c in m.get("tool_calls") or []
              for ch in str(c["arguments"].get("location", ""))}
    assert len({ch for p in places for ch in p if not ch.isascii()} - narrow) >= 10
    # long digit runs with leading zeros, which narrow names never have
    assert any(part.startswith("0") and len(part) >= 3 and part.isdigit() for part in parts)
    with pytest.raises(ValueError, match=r"names must be one of \('narrow', 'wide', 'wild', 'han'\), got 'huge'"):
        generate(3, seed=1, names="huge")


def test_broad_no_tool_questions_are_added_after_the_seeds_conversations_and_call_no_tool() -> None:
    from finetune.data import data_hash

    plain = generate(200, seed=3, breadth=2, names="wide")
    rows = generate(200, seed=3, breadth=2, names="wide", broad_no_tool=0.25)
    assert data_hash(rows[:200]) == data_hash(plain) and len(rows) == 250
    questions = set()
    for r in rows[200:]:
        *before, user, reply = r["messages"]
        assert user["role"] == "user" and reply["role"] == "assistant" and not reply.get("tool_calls")
        assert reply["content"] and "<tool_call>" not in reply["content"]
        questions.add(user["content"])
        assert r["lang"] in ("en", "zh")
    assert len(questions) >= 45  # composed, not a short list repeated
    assert any(len(r["messages"]) > 2 for r in rows[200:])  # some follow an ordinary conversation
    with pytest.raises(ValueError, match=r"broad_no_tool must be a fraction in \[0, 1\], got 2"):
        generate(3, seed=1, broad_no_tool=2)


def test_rich_emergency_names_places_without_article_and_refining_turns_carry_type_and_place() -> None:
    from finetune.data import data_hash

    # the basic shapes stay every shipped seed's data
    assert data_hash(generate(300, seed=19, breadth=2, names="wide", emergency="basic")) == \
        data_hash(generate(300, seed=19, breadth=2, names="wide"))
    rows = generate(1500, seed=24, breadth=2, names="wide", emergency="rich")
    refined = compound = with_article = 0
    for r in rows:
        searches = [(i, c["arguments"]) for i, m in enumerate(r["messages"]) for c in m.get("tool_calls") or []
                    if c["name"] == "search_emergency_cases"]
        for n, (i, args) in enumerate(searches):
            validate_call("search_emergency_cases", args)
            user = r["messages"][i - 1]["content"]
            loc = args.get("location", "")
            assert not loc.lower().startswith("the "), (user, loc)  # the name, not the phrase
            if loc and " the " + loc.lower() in " " + user.lower():
                with_article += 1
            if " near " in loc or "段" in loc or " at Junction " in loc:
                compound += 1
            if n and "k" in args and loc and loc.lower() not in user.lower():
                # "only the top 2" after a search at a place: the place is carried (and the type, unless the
                # turn names another incident "at the same spot")
                before = searches[n - 1][1]
                assert loc == before["location"], (user, args, before)
                refined += args.get("incident_type") == before.get("incident_type")
    assert with_article >= 15 and compound >= 15 and refined >= 10, (with_article, compound, refined)
    # "rich" ends many searches on a turn that is not one (no tool, or a replan); "places" hardly ever does
    def not_search_after_search(rows: list[dict]) -> int:
        count = 0
        for r in rows:
            ms, searched = r["messages"], False
            for i, m in enumerate(ms[:-1]):
                calls = m.get("tool_calls") or []
                searched = searched or any(c["name"] == "search_emergency_cases" for c in calls)
                if searched and m["role"] == "user":
                    nxt = ms[i + 1].get("tool_calls") or []
                    count += not nxt or nxt[0]["name"] == "replan"
        return count

    places = generate(1500, seed=24, breadth=2, names="wide", emergency="places")
    assert not_search_after_search(rows) >= 8 + 2 * not_search_after_search(places)
    with pytest.raises(ValueError, match=r"emergency must be one of \('basic', 'places', 'rich', 'lean'\), got 'wide'"):
        generate(3, seed=1, emergency="wide")


def test_wild_names_add_free_strings_in_any_case_and_random_han_places_still_spelt_out() -> None:
    from finetune.data import _zh_place_words

    names, places = _copied_names_and_places(generate(1500, seed=15, breadth=2, names="wild"))
    # upper-case runs of free letters, which neither narrow nor wide names ever draw
    assert sum(any(len(p) >= 4 and p.isalpha() and p.isupper() for p in n.replace("_", "-").split("-"))
               for n in names) >= 10
    # Han places that are no dictionary word: random strings of jieba's place characters
    known = set(_zh_place_words())
    han = [p for p in places if p and not p[0].isascii()]
    assert sum(not any(w in p for w in known) for p in han) >= 10


def test_han_names_compose_places_of_common_characters_and_zh_searches_add_chinese_searches() -> None:
    from finetune.data import _zh_place_words, data_hash, han_by_frequency

    common = han_by_frequency()
    assert len(common) > 10000 and common[0] == "一" and len(set(common)) == len(common)
    plain = generate(400, seed=5, breadth=2, names="han")
    rows = generate(400, seed=5, breadth=2, names="han", zh_searches=1.0)
    assert data_hash(rows[:400]) == data_hash(plain) and len(rows) == 800
    for r in rows[400:]:
        user, call = r["messages"][0], r["messages"][1]
        assert r["lang"] == "zh" and user["role"] == "user"
        assert [c["name"] for c in call["tool_calls"]] == ["search_emergency_cases"]
    place_chars = {ch for w in _zh_place_words() for ch in w}

    def beyond_place_words(rows: list[dict]) -> int:
        _, places = _copied_names_and_places(rows)
        return len({ch for p in places for ch in p if "\u4e00" <= ch <= "\u9fff"} - place_chars)

    # composed of the 2000 most frequent characters, han places reach characters no place word has
    # (wide names: 4 such characters here, from the fixed place lists)
    assert beyond_place_words(rows) >= 15
    assert beyond_place_words(generate(400, seed=5, breadth=2, names="wide", zh_searches=1.0)) < 10
    assert data_hash(generate(200, seed=19, breadth=2, names="wide", zh_searches=0)) == \
        data_hash(generate(200, seed=19, breadth=2, names="wide"))
    with pytest.raises(ValueError, match=r"zh_searches must be a fraction in \[0, 1\], got -1"):
        generate(3, seed=1, zh_searches=-1)


@pytest.mark.parametrize("space_split", [False, True])
def test_space_split_tokenizer_tokenizes_a_copied_name_alike_in_request_and_call(space_split: bool) -> None:
    from finetune.tokenizer import corpus_texts, splits_spaces, train_tokenizer

    tok = train_tokenizer(corpus_texts(generate(400, seed=3), []), 1500, space_split)
    assert splits_spaces(tok) is space_split

    def pieces(text: str) -> list[str]:
        return [tok.decode([i]) for i in tok.encode(text, add_special_tokens=False)]

    name = "bomo-liwivuxe-d"
    in_request = pieces(f"route {name} now")
    in_call = pieces(format_calls([{"name": "plan_routes", "arguments": {"dataset": name}}]))
    first = pieces(name)
    # with spaces split the name's own tokens occur verbatim in both; without, the request's first one
    # carries the space
    shares = all(any(seq[i:i + len(first)] == first for i in range(len(seq))) for seq in (in_request, in_call))
    assert shares is space_split
    assert tok.decode(tok.encode(f"route {name} now", add_special_tokens=False)) == f"route {name} now"


def test_cli_bad_input_is_a_clear_json_error() -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["finetune", "eval", "--limit", "0", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["error"].startswith("--limit must be at least 1")
    res = runner.invoke(app, ["finetune", "run", "--phases", "pretrain,bake", "--json"])
    assert res.exit_code == 2 and "'bake'" in json.loads(res.stdout)["error"]


def test_written_beside_replaces_the_folder_only_when_the_write_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "weights").write_text("old")
    with pytest.raises(RuntimeError, match="half-way"), written_beside(out, seed_from=out) as side:
        (side / "weights").write_text("half")
        raise RuntimeError("failed half-way")
    assert (out / "weights").read_text() == "old"  # the old folder is whole
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # and no side folder is left behind
    with written_beside(out, seed_from=out) as side:  # reading from ``out`` while writing it: in place
        (side / "extra").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["extra", "weights"]


def test_data_cli_json_reports_what_it_wrote_and_refuses_an_unknown_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from finetune import data

    out = tmp_path / "d.jsonl"
    data.main(["--n", "4", "--seed", "2", "--emergency", "lean", "--out", str(out), "--json"])
    doc = json.loads(capsys.readouterr().out)
    rows = data.read_jsonl(out)
    assert doc == {"out": str(out), "conversations": 4, "data_hash": data.data_hash(rows)} and len(rows) == 4
    with pytest.raises(SystemExit) as exc:
        data.main(["--n", "1", "--emergency", "bogus", "--out", str(out)])
    assert exc.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err
