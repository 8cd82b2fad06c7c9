"""The Python caldav library against tandem: discovery, events, tasks, search, update, delete.

Run by tests/real_clients.rs as: python3 caldav_roundtrip.py URL USER PASSWORD
"""
import sys
from datetime import date, datetime, timezone

import caldav

url, user, password = sys.argv[1:4]
client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
calendars = {c.get_display_name(): c for c in principal.calendars()}
assert {"Calendar", "Tasks"} <= set(calendars), calendars

events = calendars["Calendar"]
created = events.save_event(
    dtstart=datetime(2026, 11, 23, 9, tzinfo=timezone.utc),
    dtend=datetime(2026, 11, 23, 10, tzinfo=timezone.utc),
    summary="Pipeline review",
    uid="py-caldav-1",
)
found = events.search(
    start=datetime(2026, 11, 23, tzinfo=timezone.utc),
    end=datetime(2026, 11, 24, tzinfo=timezone.utc),
    event=True,
)
assert [e.icalendar_component["uid"] for e in found] == ["py-caldav-1"], found
assert events.search(start=datetime(2026, 12, 1, tzinfo=timezone.utc), end=datetime(2026, 12, 2, tzinfo=timezone.utc), event=True) == []

created.icalendar_component["summary"] = "Pipeline review (moved)"
created.save()
again = events.event_by_uid("py-caldav-1")
assert str(again.icalendar_component["summary"]) == "Pipeline review (moved)"

tasks = calendars["Tasks"]
todo = tasks.save_todo(summary="Send the quote", uid="py-caldav-todo")
assert [t.icalendar_component["uid"] for t in tasks.todos()] == ["py-caldav-todo"]
todo.complete()
assert tasks.todos() == [], "a completed task is no longer pending"
assert len(tasks.todos(include_completed=True)) == 1

again.delete()
assert events.search(start=datetime(2026, 11, 23, tzinfo=timezone.utc), end=datetime(2026, 11, 24, tzinfo=timezone.utc), event=True) == []
# An all-day yearly event expanded by the server (python-caldav's testRecurringDateSearch): its
# instances stay dates, not midnight UTC, which a client west of Greenwich shows a day early.
events.save_event(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//test//EN\r\nBEGIN:VEVENT\r\n"
    "UID:py-caldav-anniversary\r\nDTSTAMP:20261101T120000Z\r\nDTSTART;VALUE=DATE:19971102\r\n"
    "DTEND;VALUE=DATE:19971103\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Our Blissful Anniversary\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
expanded = events.search(
    start=datetime(2027, 1, 1, tzinfo=timezone.utc),
    end=datetime(2028, 1, 1, tzinfo=timezone.utc),
    event=True,
    expand=True,
    server_expand=True,
)
starts = [e.icalendar_component["dtstart"].dt for e in expanded]
assert starts == [date(2027, 11, 2)] and type(starts[0]) is date, starts
print("caldav library: ok")
