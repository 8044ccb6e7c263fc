"""The API documentation page speaks the reader's language around a reference kept in English."""

from __future__ import annotations


def test_the_page_says_in_vietnamese_that_the_reference_is_in_english(anon_client):
    html = anon_client.get("/api/v1/docs").get_data(as_text=True)
    assert "data-api-language-notice" in html
    assert "bằng tiếng Anh" in html
    assert 'id="api-docs" lang="en"' in html


def test_the_notice_reads_in_english_on_request(anon_client):
    anon_client.get("/lang/en")
    html = anon_client.get("/api/v1/docs").get_data(as_text=True)
    assert "The reference below is in English" in html
