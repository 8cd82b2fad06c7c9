// tsdav (the JavaScript CalDAV/CardDAV client web and Electron apps use) against a running
// tandem: discovery from the server's root, then an event, a task and a contact created, read
// back, changed with their ETags, found by a sync-collection and deleted. Prints
// "tsdav: ok" when every step did what a client expects; any other outcome throws.
// Usage: node tsdav_roundtrip.cjs URL USER PASSWORD (tsdav found through NODE_PATH).
"use strict";

const { createDAVClient } = require("tsdav");

const [url, username, password] = process.argv.slice(2);

function check(ok, what) {
  if (!ok) throw new Error(`tsdav: ${what}`);
}

async function client(accountType) {
  return createDAVClient({
    serverUrl: url,
    credentials: { username, password },
    authMethod: "Basic",
    defaultAccountType: accountType,
  });
}

const event = (summary) =>
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem tests//tsdav//EN\r\nBEGIN:VEVENT\r\n" +
  "UID:tsdav-event\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261124T090000Z\r\n" +
  `DTEND:20261124T100000Z\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

const task =
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem tests//tsdav//EN\r\nBEGIN:VTODO\r\n" +
  "UID:tsdav-task\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Call back\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";

const card = (title) =>
  "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:tsdav-card\r\nN:Souza;Rita;;;\r\nFN:Rita Souza\r\n" +
  `TITLE:${title}\r\nEMAIL;TYPE=WORK:rita@tsdav.test\r\nEND:VCARD\r\n`;

async function calendars() {
  const dav = await client("caldav");
  const found = await dav.fetchCalendars();
  const calendar = found.find((c) => (c.components || []).includes("VEVENT"));
  const tasks = found.find((c) => (c.components || []).includes("VTODO"));
  check(calendar && tasks, `a calendar and a task list are discovered: ${JSON.stringify(found)}`);

  const made = await dav.createCalendarObject({
    calendar,
    filename: "tsdav-event.ics",
    iCalString: event("Kickoff"),
  });
  check(made.ok, `the event is created (${made.status})`);
  const todo = await dav.createCalendarObject({
    calendar: tasks,
    filename: "tsdav-task.ics",
    iCalString: task,
  });
  check(todo.ok, `the task is created (${todo.status})`);

  const objects = await dav.fetchCalendarObjects({ calendar });
  const mine = objects.find((o) => o.url.endsWith("/tsdav-event.ics"));
  check(mine && mine.etag && mine.data.includes("SUMMARY:Kickoff"), "the event reads back with its ETag");

  const week = await dav.fetchCalendarObjects({
    calendar,
    timeRange: { start: "2026-11-23T00:00:00Z", end: "2026-11-30T00:00:00Z" },
  });
  check(week.some((o) => o.url.endsWith("/tsdav-event.ics")), "a time-range query finds the event");

  const changed = await dav.updateCalendarObject({
    calendarObject: { url: mine.url, data: event("Kickoff, moved"), etag: mine.etag },
  });
  check(changed.ok, `the event is changed with its ETag (${changed.status})`);
  const stale = await dav.updateCalendarObject({
    calendarObject: { url: mine.url, data: event("Lost edit"), etag: mine.etag },
  });
  check(stale.status === 412, `a change with the old ETag is refused (${stale.status})`);

  const synced = await dav.smartCollectionSync({
    collection: { ...calendar, objectMultiGet: dav.calendarMultiGet },
    method: "webdav",
    detailedResult: true,
  });
  const seen = [...synced.objects.created, ...synced.objects.updated];
  const now = seen.find((o) => o.url.endsWith("/tsdav-event.ics"));
  check(now && now.data.includes("SUMMARY:Kickoff, moved"), "a sync-collection brings the change");

  const after = (await dav.fetchCalendarObjects({ calendar })).find((o) =>
    o.url.endsWith("/tsdav-event.ics"),
  );
  const gone = await dav.deleteCalendarObject({ calendarObject: after });
  check(gone.ok, `the event is deleted (${gone.status})`);
  const left = await dav.fetchCalendarObjects({ calendar });
  check(!left.some((o) => o.url.endsWith("/tsdav-event.ics")), "the deleted event is gone");
}

async function contacts() {
  const dav = await client("carddav");
  const books = await dav.fetchAddressBooks();
  check(books.length > 0, "an address book is discovered");
  const book = books[0];
  const made = await dav.createVCard({
    addressBook: book,
    filename: "tsdav-card.vcf",
    vCardString: card("Buyer"),
  });
  check(made.ok, `the contact is created (${made.status})`);
  const cards = await dav.fetchVCards({ addressBook: book });
  const mine = cards.find((c) => c.url.endsWith("/tsdav-card.vcf"));
  check(mine && mine.etag && mine.data.includes("TITLE:Buyer"), "the contact reads back");
  const changed = await dav.updateVCard({
    vCard: { url: mine.url, data: card("Head Buyer"), etag: mine.etag },
  });
  check(changed.ok, `the contact is changed (${changed.status})`);
  const again = (await dav.fetchVCards({ addressBook: book })).find((c) =>
    c.url.endsWith("/tsdav-card.vcf"),
  );
  check(again.data.includes("TITLE:Head Buyer"), "the change reads back");
  const gone = await dav.deleteVCard({ vCard: again });
  check(gone.ok, `the contact is deleted (${gone.status})`);
}

(async () => {
  await calendars();
  await contacts();
  console.log("tsdav: ok");
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
