package rules

import "strings"

// balanceHeadings name a table column that holds the running balance of an
// account; compared after balanceHeading has cut currency marks. Headings
// such as "offen" or "Restbetrag" are left out: in a list of invoices they
// head each invoice's own open amount, not a running total.
var balanceHeadings = wordSet(`saldo kontostand stand restforderung restschuld forderungsstand balance`)

// balanceHeadingPhrases are the headings of more than one word.
var balanceHeadingPhrases = map[string]bool{
	"neuer saldo": true, "saldo neu": true, "aktueller saldo": true, "running balance": true,
}

// columnBalance reads a table written as " | " rows (spreadsheets, DOCX
// tables) whose heading row names a balance column ("Datum | Buchungstext |
// Betrag | Saldo"): the balance in the last row below it is the current
// total, which no label on that row names. The table ends at a row with
// another number of cells or a line that is no row.
func columnBalance(t foldedText) (amountChoice, bool) {
	text := t.s
	if strings.IndexByte(text, '|') < 0 {
		return amountChoice{}, false
	}
	var best amountChoice
	found := false
	col, cells, heading := -1, 0, ""
	for ls := 0; ls < len(text); {
		le := strings.IndexByte(text[ls:], '\n')
		if le < 0 {
			le = len(text)
		} else {
			le += ls
		}
		line := t.folded[ls:le]
		n := strings.Count(line, "|") + 1
		switch {
		case n < 3 && strings.TrimSpace(line) == "":
			// a blank line inside a sheet
		case n < 3 || col >= 0 && n != cells:
			col = -1
		}
		if n >= 3 {
			if c, h, ok := headingColumn(text[ls:le], line); ok {
				col, cells, heading = c, n, h
			} else if col >= 0 {
				if h, ok := cellAmount(text, ls, le, col); ok {
					best = amountChoice{value: amountPtr(h.value), basis: basisTotal, label: heading,
						hit: classified{amountHit: h, kind: kindTotal, labelStart: ls, afterEnd: le}}
					found = true
				}
			}
		}
		ls = le + 1
	}
	return best, found && plausible(*best.value)
}

// headingColumn reports the index of a balance column in a row without
// digits, and that column's heading as written.
func headingColumn(row, folded string) (col int, heading string, ok bool) {
	if strings.ContainsAny(row, "0123456789") {
		return 0, "", false
	}
	for i, cell := range strings.Split(folded, "|") {
		if h := balanceHeading(cell); balanceHeadings[h] || balanceHeadingPhrases[h] {
			return i, strings.TrimSpace(strings.Split(row, "|")[i]), true
		}
	}
	return 0, "", false
}

// balanceHeading trims a folded heading cell and cuts the currency marks
// around its words ("Saldo (EUR)", "Kontostand in €").
func balanceHeading(cell string) string {
	f := strings.Fields(strings.NewReplacer("(", " ", ")", " ", "€", " ", ":", " ").Replace(cell))
	for len(f) > 0 && (f[len(f)-1] == "eur" || f[len(f)-1] == "in") {
		f = f[:len(f)-1]
	}
	return strings.Join(f, " ")
}

// cellAmount returns the money amount that fills cell col of the row
// text[ls:le], if it holds one and nothing else.
func cellAmount(text string, ls, le, col int) (amountHit, bool) {
	start := ls
	for range col {
		bar := strings.IndexByte(text[start:le], '|')
		if bar < 0 {
			return amountHit{}, false
		}
		start += bar + 1
	}
	end := le
	if bar := strings.IndexByte(text[start:le], '|'); bar >= 0 {
		end = start + bar
	}
	cell := text[:end] // readHit looks before the number; the cell ends the text
	s, e, ok := nextNumber(cell, start)
	if !ok {
		return amountHit{}, false
	}
	h, ok := readHit(cell, s, e)
	rest := strings.TrimSpace(strings.TrimSpace(cell[e:]))
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(rest, "EUR"), "€"))
	lead := strings.Trim(cell[start:s], " \t-−€EUR")
	if !ok || rest != "" || lead != "" {
		return amountHit{}, false
	}
	return h, true
}
