from similarity import DuplicateFinder
from similarity.riha import riha_records


def entry(short_name, name, purpose="-", owner="1", flagged=False, topics=None):
    return {
        "hasUsedSystemTypeRelations": flagged,
        "details": {
            "short_name": short_name,
            "name": name,
            "purpose": purpose,
            "owner": {"code": owner, "name": f"Asutus {owner}"},
            "topics": topics,
        },
    }


SAMPLE = [
    entry("a1", "Amphora dokumendihaldustarkvara", owner="1", flagged=True),
    entry("a2", "Amphora dokumendihaldustarkvara", owner="2", flagged=True),
    entry("a3", "Amphora dokumendihaldustarkvara", owner="3", flagged=True),
    entry("a4", "Saue valla Amphora dokumendihaldustarkvara", owner="4", flagged=True),
    entry("a5", "Amphora dokumendihaldustarkvara", owner="5", flagged=False),
    entry("d1", "Dokumendihaldussüsteem Delta", "Alfresco", owner="6", flagged=True),
    entry("x1", "Lemmikloomaregister", "Lemmikloomade andmed", owner="7", topics=["Keskkond"]),
]


def test_riha_entries_become_records():
    records = {r["id"]: r for r in riha_records(SAMPLE)}
    assert records["a1"]["description"] == ""  # "-" means no purpose
    assert records["d1"]["description"] == "Alfresco"
    assert records["x1"]["data_domains"] == ["keskkond"]
    assert records["x1"]["agency"] == "7"


def test_deployments_of_a_product_are_recognised_by_name():
    records = {r["id"]: r["instance_of"] for r in riha_records(SAMPLE)}
    product = "standard:amphora dokumendihaldustarkvara"
    assert records["a1"] == records["a2"] == records["a4"] == product  # a4 named after its owner
    assert records["a5"] == product  # flag left unset, same product name
    assert records["d1"] == "standard:dokumendihaldussüsteem delta"
    assert records["x1"] is None


def test_copies_of_one_product_are_reuse_and_other_vendors_overlap():
    finder = DuplicateFinder().fit(riha_records(SAMPLE))
    reuse = finder.pairs(min_score=0.0, include_reuse=True)
    assert {p["relation"] for p in reuse if {p["a"], p["b"]} <= {"a1", "a2", "a3", "a4", "a5"}} == {"reuse"}
    overlaps = finder.pairs(min_score=0.0)
    assert any(
        {p["a"], p["b"]} & {"d1"} and {p["a"], p["b"]} & {"a1", "a2", "a3", "a4", "a5"} for p in overlaps
    )
