"""mlops_ci.local.events: payloads carry what workflows and act read."""

from mlops_ci.local import events


def test_pull_request_event_shape():
    event = events.pull_request_event(slug="acme/digits", number=7, head="feature/x", head_sha="a" * 40,
                                      base="develop", base_sha="b" * 40, title="T", body="B")
    pr = event["pull_request"]
    assert event["number"] == 7 and event["action"] == "opened"
    assert (pr["head"]["ref"], pr["base"]["ref"]) == ("feature/x", "develop")
    assert pr["head"]["repo"]["full_name"] == pr["base"]["repo"]["full_name"] == "acme/digits"
    assert pr["head"]["repo"]["fork"] is False


def test_fork_pull_request_marks_the_head_repo():
    event = events.pull_request_event(slug="acme/digits", number=1, head="main", head_sha="a" * 40,
                                      base="develop", base_sha="b" * 40, title="T", body="",
                                      fork_owner="stranger")
    head_repo = event["pull_request"]["head"]["repo"]
    assert head_repo["full_name"] == "stranger/digits" and head_repo["fork"] is True
    assert event["repository"]["full_name"] == "acme/digits"


def test_deleted_fork_and_author_association():
    event = events.pull_request_event(slug="acme/digits", number=1, head="main", head_sha="a" * 40,
                                      base="develop", base_sha="b" * 40, title="T", body="",
                                      fork_owner="stranger", fork_deleted=True, author_association="NONE")
    pr = event["pull_request"]
    assert pr["head"]["repo"] is None and pr["head"]["label"] == "stranger:main"
    assert pr["author_association"] == "NONE"


def test_push_schedule_and_dispatch_events():
    commit = {"id": "c" * 40, "message": "m"}
    push = events.push_event(slug="acme/digits", branch="main", before="d" * 40, head_commit=commit)
    assert push["ref"] == "refs/heads/main" and push["after"] == "c" * 40 and push["commits"] == [commit]
    assert events.schedule_event(slug="acme/digits", cron="0 3 * * *")["schedule"] == "0 3 * * *"
    dispatch = events.workflow_dispatch_event(slug="acme/digits", branch="develop", inputs={"k": "v"})
    assert dispatch["inputs"] == {"k": "v"} and dispatch["ref"] == "refs/heads/develop"
