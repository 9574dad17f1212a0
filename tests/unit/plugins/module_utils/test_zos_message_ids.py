"""zos_message_ids and message_score: the documented id table, its sources, what it decides,
and its measured accuracy on real messages (the shared 20 and a held-out set from public
issue threads that was labelled before the classifier was run on it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.autoport.zos.plugins.module_utils.message_classify import classify, parse_message_id
from ansible_collections.autoport.zos.plugins.module_utils.message_score import load_messages, score
from ansible_collections.autoport.zos.plugins.module_utils.record import CATEGORIES
from ansible_collections.autoport.zos.plugins.module_utils.zos_message_ids import (
    FAMILY_SOURCES,
    MESSAGE_IDS,
    coverage,
    documented,
)

HELD_OUT = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "messages" / "zos-messages-heldout.jsonl"

_KEY = {"CCN": r"CCN\d{4}", "IEW": r"IEW\d{4}", "CEE": r"CEE\d{4}", "EDC": r"EDC\d{4}", "FSUM": r"FSUM[0-9A-Z]\d{3}"}


def test_every_family_names_its_ibm_source():
    assert set(FAMILY_SOURCES) == set(MESSAGE_IDS) == {"CCN", "IEW", "CEE", "EDC", "FSUM"}
    for family, source in FAMILY_SOURCES.items():
        assert "z/OS" in source["document"] and source["url"].startswith("https://"), family
        assert "ibm.com" in source["url"], family


def test_entries_are_well_formed():
    for family, table in MESSAGE_IDS.items():
        assert table, family
        for key, (category, follow_up, text, evidence) in table.items():
            assert re.fullmatch(_KEY[family], key), key
            # A pure follow-up has no category of its own; anything else has a record category.
            assert (category is None and follow_up) or category in CATEGORIES, key
            assert text and evidence, key
    counts = coverage()
    assert sum(item["ids"] for item in counts.values()) == sum(len(table) for table in MESSAGE_IDS.values())


def test_lookup_ignores_the_severity_letter_and_the_quoting():
    for quoted in ("IEW2456E 9207 SYMBOL x UNRESOLVED.", "x: IEW2456 y", "CCN3045 (S) z"):
        assert documented(parse_message_id(quoted)) is not None, quoted
    assert documented(parse_message_id("EDC5129I No such file or directory."))["category"] == "environment"
    assert documented(parse_message_id("EDC5199I made up")) is None
    assert documented(None) is None
    entry = documented(parse_message_id("FSUM3065 The LINK step ended with return code 8."))
    assert entry["category"] is None and entry["follow_up"] is True
    assert entry["source"] == FAMILY_SOURCES["FSUM"]["document"]


@pytest.mark.parametrize(
    "message, expected, without_table",
    [
        # Documented meanings the family and range rules got wrong (they said "other").
        ('"u.c", line 3.1: CCN3766 (S) The universal character name "0x0301" is not in the allowable range for an identifier.',
         "encoding", "other"),
        ('"t.c", line 9.5: CCN3419 (I) Converting 3637953233 to type "int" does not preserve its value.', "type-error", "other"),
    ],
)
def test_documented_ids_decide(message, expected, without_table):
    assert classify(message)[0] == expected
    assert classify(message, None, None, "family")[0] == without_table


def test_a_documented_id_quoted_inside_a_line_decides_before_the_wording():
    # "syntax error" in the wording alone says nothing; FSUM7332 is the shell failing to read its script.
    line = "/tmp/build.sh 12: FSUM7332 syntax error: got (, expecting Newline"
    assert classify(line)[0] == "encoding"
    assert classify(line, None, None, "none")[0] == "other"


def test_documented_follow_ups_are_flagged():
    assert classify("FSUM3065 The BIND step ended with return code 4.")[1] is True
    assert classify("CCN0793(I) Compilation failed for file a.c.  Object file not created.")[1] is True


def test_unknown_id_mode_is_refused():
    with pytest.raises(ValueError, match="ids must be one of"):
        classify("x", None, None, "everything")


# Measured on 2026-12-04 with the table of this commit; the held-out set was labelled before
# the classifier ran on it and no rule or table entry was changed after scoring it.
# (shared 20, held-out 37): right answers for ids = table / family / none.
MEASURED = {"shared": (20, 20, 18), "held_out": (34, 33, 25)}


def test_accuracy_on_the_shared_corpus(zos_messages):
    entries = load_messages(str(zos_messages))
    table, family, none = (score(entries, ids)["right"] for ids in ("table", "family", "none"))
    assert table >= MEASURED["shared"][0] and family >= MEASURED["shared"][1]
    assert none == MEASURED["shared"][2]  # wording alone: the baseline the ids improve on
    assert table > none


def test_accuracy_on_held_out_real_messages():
    entries = load_messages(str(HELD_OUT))
    assert len(entries) == 37 and all(entry["source"].startswith("https://github.com/") for entry in entries)
    results = {ids: score(entries, ids) for ids in ("table", "family", "none")}
    assert results["table"]["right"] >= MEASURED["held_out"][0], results["table"]["wrong"]
    assert results["family"]["right"] >= MEASURED["held_out"][1]
    assert results["none"]["right"] == MEASURED["held_out"][2]
    assert results["table"]["right"] > results["family"]["right"] > results["none"]["right"]
    assert results["table"]["follow_up_right"] == 37
    # How many held-out messages carry an id the table documents (the rest go by family and wording).
    assert results["table"]["ids_in_table"] == 10


# Held-out ids the table documents. Scored with the first six; CEE3204 (protection exception)
# came in afterwards with IBM's program-interrupt table (CEE3201-CEE3215) and changed no score
# (the family default already said runtime). No other held-out id may enter the table: that
# would be tuning on the held-out set.
HELD_OUT_IDS_IN_TABLE = {"CCN0793", "CCN3205", "FSUM3065", "IEW2456", "CEE3561", "EDC5129", "CEE3204"}


def test_no_held_out_id_was_added_to_the_table_after_scoring():
    found = set()
    for entry in load_messages(str(HELD_OUT)):
        ident = parse_message_id(entry.get("msg_id") or entry["message"])
        if ident is not None and documented(ident) is not None:
            found.add(ident["family"] + ident["digits"])
    assert found == HELD_OUT_IDS_IN_TABLE


def test_load_messages_names_the_file_and_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"message": "x", "follow_up": false, "categories": []}\n{"message": "y", "follow_up": "no", "categories": []}\n')
    with pytest.raises(ValueError, match=r"m\.jsonl line 2: follow_up"):
        load_messages(str(path))
    path.write_text('{"message": "x", "follow_up": false, "categories": ["nonsense"]}\n')
    with pytest.raises(ValueError, match="line 1: categories"):
        load_messages(str(path))
    path.write_text("not json\n")
    with pytest.raises(ValueError, match="line 1: not JSON"):
        load_messages(str(path))
