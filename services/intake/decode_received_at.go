package intake

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Berlin even in an image without zoneinfo
)

// berlin is where the firm and most creditors are: a received_at without a
// zone is read in it.
var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic("embedded tzdata lacks Europe/Berlin: " + err.Error())
	}
	return loc
}()

// Layouts of received_at, as Zendesk's placeholders and mail systems render
// it. zonedLayouts carry an offset or zone; localLayouts a time of day but
// no zone; dateLayouts only a day.
var (
	zonedLayouts = []string{
		time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04Z07:00",
		time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822,
	}
	localLayouts = []string{
		"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04",
		"2.1.2006 15:04:05", "2.1.2006 15:04", "January 2, 2006 15:04", "Jan 2, 2006 15:04",
	}
	dateLayouts = []string{"2006-01-02", "2.1.2006", "January 2, 2006", "Jan 2, 2006"}
)

// germanZones are the zone abbreviations German mail carries; Go knows
// their offsets only where the machine's own zone is German.
var germanZones = map[string]bool{"CET": true, "CEST": true, "MEZ": true, "MESZ": true}

// maxFutureSkew is how far ahead of the receipt a received_at may lie.
const maxFutureSkew = 24 * time.Hour

// receivedAt reads received_at, or keeps now (the time of receipt) with a
// warning when it is absent, unreadable or implausible. A value without a
// zone is read in Europe/Berlin, and one without a time of day keeps the
// time of receipt on the same day, else midnight: each noted.
func (d *payloadDecoder) receivedAt(raw json.RawMessage, now time.Time) time.Time {
	if absent(raw) {
		return now
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || strings.TrimSpace(s) == "" {
		d.warn("received_at unparseable (kept time of receipt)")
		return now
	}
	t, note, ok := parseReceivedAt(strings.TrimSpace(s), now)
	switch {
	case !ok:
		d.warn("received_at unparseable (kept time of receipt)")
		return now
	case t.After(now.Add(maxFutureSkew)) || t.Year() < 2000:
		d.warn("received_at implausible (kept time of receipt)")
		return now
	case note != "":
		d.warn("%s", note)
	}
	return t.UTC()
}

// parseReceivedAt tries the layouts in turn; note says what was assumed.
func parseReceivedAt(s string, now time.Time) (t time.Time, note string, ok bool) {
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return knownZone(t)
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return knownZone(t)
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, berlin); err == nil {
			return t, "received_at without time zone (read as Europe/Berlin)", true
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, berlin); err == nil {
			if y, m, day := now.In(berlin).Date(); t.Year() == y && t.Month() == m && t.Day() == day {
				return now, "received_at without time of day (kept time of receipt, same day)", true
			}
			return t, "received_at without time of day (read as midnight Europe/Berlin)", true
		}
	}
	return time.Time{}, "", false
}

// knownZone fixes a time parsed with a zone abbreviation Go does not know:
// it gets offset 0 under that name. German zones are read in Europe/Berlin;
// any other unknown zone as UTC, noted.
func knownZone(t time.Time) (time.Time, string, bool) {
	name, offset := t.Zone()
	switch {
	case offset != 0 || name == "" || name == "UTC" || name == "GMT" || name == "UT" || name == "Z":
		return t, "", true
	case germanZones[strings.ToUpper(name)]:
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), berlin), "", true
	}
	return t, "received_at time zone " + safeZoneName(name) + " unknown (read as UTC)", true
}

// safeZoneName keeps a zone abbreviation for a warning only when it is short
// and plain, so the warning never carries arbitrary payload text.
func safeZoneName(name string) string {
	if len(name) > 6 || strings.IndexFunc(name, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return "(unrecognised)"
	}
	return name
}
