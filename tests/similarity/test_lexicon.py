import pytest

from similarity.lexicon import Lexicon, default_lexicon


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hệ thống QLVB tỉnh Nghệ An", "quản lý văn bản"),
        ("Phần mềm một cửa điện tử TP. Huế", "giải quyết thủ tục hành chính"),
        ("he thong mot cua dien tu tinh quang ninh", "giải quyết thủ tục hành chính"),
        ("Hệ thống giải quyết TTHC trên địa bàn tỉnh Bắc Ninh", "giải quyết thủ tục hành chính"),
        ("Trung tâm IOC Đà Nẵng", "trung tâm giám sát điều hành thông minh"),
        ("Nền tảng LGSP của UBND tỉnh Hoà Bình", "tích hợp chia sẻ dữ liệu"),
        ("Hệ thống giao ban trực tuyến", "hội nghị truyền hình"),
    ],
)
def test_rewrites_and_removals(text, expected):
    accented, unaccented = default_lexicon().prepare(text)
    assert accented == expected
    assert unaccented.isascii()


def test_places_and_generic_words_leave_nothing_of_a_name_that_says_nothing():
    assert default_lexicon().prepare("Hệ thống phần mềm của tỉnh Lào Cai") == ("", "")


def test_longer_phrases_win():
    lexicon = Lexicon(rewrites=(("một cửa", "x"), ("một cửa điện tử", "y z")), removals=())
    assert lexicon.prepare("một cửa điện tử")[0] == "y z"


def test_words_are_matched_whole():
    lexicon = Lexicon(rewrites=(("soc", "giám sát an toàn"),), removals=("xã",))
    assert lexicon.prepare("social xã hội")[0] == "social hội"


def test_a_thesaurus_file_without_its_columns_is_refused(tmp_path):
    bad = tmp_path / "thesaurus.csv"
    bad.write_text("from,to\na,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        Lexicon.from_files(thesaurus=bad)


def test_an_extended_thesaurus_is_used(tmp_path):
    extended = tmp_path / "thesaurus.csv"
    extended.write_text(
        "variant,canonical,note\nhscv,hồ sơ công việc,added by the office\n", encoding="utf-8"
    )
    assert Lexicon.from_files(thesaurus=extended).prepare("Phần mềm HSCV")[0] == "hồ sơ công việc"


def test_the_trie_pattern_matches_like_the_longest_first_alternation():
    import random
    import re

    from similarity.lexicon import _phrase_pattern

    phrases = ["quản lý", "quản lý văn bản", "quản lý văn bản điều hành", "văn", "hồ sơ", "hồ sơ công việc"]
    flat = re.compile(
        r"(?<![\w])(?:"
        + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        + r")(?![\w])"
    )
    trie = _phrase_pattern(phrases)
    rng = random.Random(3)
    for _ in range(2000):
        parts = [rng.choice(phrases)[: rng.randint(1, 30)] + rng.choice(["", "a", " x"]) for _ in range(4)]
        text = " ".join(parts)
        assert trie.sub("|", text) == flat.sub("|", text), text
    assert trie.sub("|", "quản lý văn bảnx quản lý văn bản") == "| | bảnx |"
