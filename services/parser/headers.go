package parser

import (
	"strings"
	"unicode/utf8"
)

// Line length limits for the header recognisers: real separators,
// attribution lines and header fields are short, and bounding them keeps
// the per-line work constant.
const (
	maxMarkerLen      = 200
	maxAttributionLen = 400
	maxHeaderLen      = 600
	maxDateLineLen    = 120
)

// fieldKind is the kind of a mail header field quoted in the body.
type fieldKind uint8

const (
	fieldNone  fieldKind = iota
	fieldFrom            // From, Von
	fieldSent            // Sent, Gesendet (Outlook's word for the date)
	fieldDate            // Date, Datum
	fieldOther           // To, Subject, Cc, …
)

// headerField classifies a line like "Von: Max <max@example.de>" or
// "*From:* …" by its field name.
func headerField(t string) fieldKind {
	i := strings.IndexByte(t, ':')
	if i <= 0 || i > 32 || len(t) > maxHeaderLen {
		return fieldNone
	}
	name := strings.Trim(t[:i], "*_ ")
	switch {
	case equalsAnyFold(name, "from", "von", "absender"):
		return fieldFrom
	case equalsAnyFold(name, "sent", "gesendet"):
		return fieldSent
	case equalsAnyFold(name, "date", "datum"):
		return fieldDate
	case equalsAnyFold(name, "to", "an", "cc", "bcc", "kopie", "kopie (cc)", "subject", "betreff", "reply-to",
		"antwort an", "importance", "wichtigkeit", "priorität", "attachments", "anlagen", "anhang", "empfänger"):
		return fieldOther
	}
	return fieldNone
}

// isQuoteLine reports a line quoted with ">".
func isQuoteLine(t string) bool {
	return strings.HasPrefix(t, ">")
}

// coreText strips the decoration around a marker line ("-----Original
// Message-----", "---------- Forwarded message ---------"); "" for lines
// too long to be a marker.
func coreText(t string) string {
	if len(t) > maxMarkerLen {
		return ""
	}
	s := strings.Trim(t, "-_=*<>~#[]() ")
	return strings.TrimSpace(strings.TrimSuffix(s, ":"))
}

// equalsAnyFold reports whether s equals one of words, ignoring case.
func equalsAnyFold(s string, words ...string) bool {
	for _, w := range words {
		if len(s) == len(w) && strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// isOriginalMessage reports the separator Outlook and others put above the
// quoted previous message.
func isOriginalMessage(t string) bool {
	return equalsAnyFold(coreText(t), "original message", "ursprüngliche nachricht", "original-nachricht",
		"originalnachricht", "ursprüngliche e-mail", "original e-mail", "message d'origine", "mensaje original",
		"reply message")
}

// isForwardMarker reports the line that introduces a forwarded message.
func isForwardMarker(t string) bool {
	c := coreText(t)
	if equalsAnyFold(c, "forwarded message", "weitergeleitete nachricht", "begin forwarded message",
		"anfang der weitergeleiteten nachricht", "weitergeleitete e-mail", "forwarded e-mail",
		"forwarded email", "message transféré", "mensaje reenviado", "weitergeleitete mail") {
		return true
	}
	// Lotus Notes: "----- Weitergeleitet von Max/Firma am 03.03.2025 10:00 -----"
	return strings.HasPrefix(t, "---") &&
		(hasPrefixFold(c, "weitergeleitet von ") || hasPrefixFold(c, "forwarded by "))
}

// isZendeskMarker reports Zendesk's "##- Bitte geben Sie Ihre Antwort über
// dieser Zeile ein -##" line; everything below it is the ticket history.
func isZendeskMarker(t string) bool {
	return len(t) <= maxMarkerLen && strings.HasPrefix(t, "##-") && strings.HasSuffix(t, "-##")
}

// isZendeskUpdate reports Zendesk's "Aktualisiert von: …" history line.
func isZendeskUpdate(t string) bool {
	return len(t) <= maxAttributionLen && hasPrefixFold(t, "aktualisiert von")
}

// isSeparator reports a line drawn with dashes, underscores or similar
// (at least 10 of them and nothing else): layout noise in every case.
func isSeparator(t string) bool {
	if len(t) < 10 {
		return false
	}
	n := 0
	for _, r := range t {
		switch r {
		case '-', '_', '=', '*', '~', '—', '–', '─', '━', '═':
			n++
		case ' ':
		default:
			return false
		}
	}
	return n >= 10
}

// isDateLine reports a short line holding a year and a clock time, like
// Zendesk's "3. März 2025, 10:15 MEZ" below its history separator.
func isDateLine(t string) bool {
	if len(t) > maxDateLineLen {
		return false
	}
	year, clock := false, false
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			continue
		}
		j := i
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		switch {
		case j-i == 4 && (t[i:i+2] == "19" || t[i:i+2] == "20"):
			year = true
		case j-i <= 2 && j+2 < len(t) && t[j] == ':' && isDigit(t[j+1]) && isDigit(t[j+2]):
			clock = true
		}
		i = j
	}
	return year && clock
}

// attributionLines reports whether an "Am … schrieb …:" / "On … wrote:"
// line starts at lines[i] and how many lines it spans (Gmail wraps long
// ones after the name); 0 if none.
func attributionLines(lines []line, i int) int {
	t := lines[i].text
	if len(t) > maxAttributionLen || t == "" {
		return 0
	}
	if strings.HasSuffix(t, ":") {
		if isAttribution(strings.ToLower(t)) {
			return 1
		}
		return 0
	}
	if i+1 >= len(lines) || lines[i+1].mark != markNone || !strings.HasSuffix(lines[i+1].text, ":") {
		return 0
	}
	next := lines[i+1].text
	if len(t)+len(next) > maxAttributionLen || !startsAttribution(strings.ToLower(t[:min(3, len(t))])) {
		return 0
	}
	if isAttribution(strings.ToLower(t + " " + next)) {
		return 2
	}
	return 0
}

// isAttribution checks one lower-cased candidate attribution line.
func isAttribution(lt string) bool {
	if !strings.HasSuffix(lt, ":") {
		return false
	}
	if !hasWord(lt, "schrieb") && !hasWord(lt, "wrote") && !strings.Contains(lt, "a écrit") &&
		!hasWord(lt, "escribió") && !hasWord(lt, "schreef") && !strings.HasSuffix(lt, " geschrieben:") {
		return false
	}
	return startsAttribution(lt) || strings.Contains(lt, "@") || strings.ContainsAny(lt, "0123456789")
}

// startsAttribution reports the usual openings of an attribution line.
func startsAttribution(lt string) bool {
	for _, p := range []string{"am ", "on ", "le ", "el ", "op "} {
		if strings.HasPrefix(lt, p) {
			return true
		}
	}
	return false
}

// hasWord reports whether w occurs in s as a whole word.
func hasWord(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(w)
		if (i == 0 || !isLetterBefore(s, i)) && (end == len(s) || !isLetterAt(s, end)) {
			return true
		}
		off = end
	}
}

// isLetterBefore reports whether the rune ending just before s[i] is a letter.
func isLetterBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isLetter(r)
}

// isLetterAt reports whether the rune at s[i] is a letter.
func isLetterAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isLetter(r)
}

// isLetter is a cheap letter test good enough for word boundaries.
func isLetter(r rune) bool {
	return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || r >= 0xc0
}

// isDigit reports an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hasPrefixFold is a case-insensitive strings.HasPrefix.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
