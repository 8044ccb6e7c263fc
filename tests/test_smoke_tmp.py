def test_list_empty(client):
    r = client.get("/systems/")
    assert r.status_code == 200, r.text

def test_create_and_detail(client, make_agency, session):
    a = make_agency()
    r = client.post("/systems/new", data={"name": "Hệ thống A", "description": "mô tả", "status": "draft", "scope_level": "central", "owner_agency_id": a.id})
    assert r.status_code == 302, r.text
    r = client.get(r.headers["Location"])
    assert r.status_code == 200
    assert "Hệ thống A" in r.text
    r = client.get("/systems/?q=he+thong")
    assert "Hệ thống A" in r.text
