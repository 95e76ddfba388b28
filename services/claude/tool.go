package claude

import (
	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// toolName is the one tool the model is forced to call.
const toolName = "record_creditor_reply"

// Answer keys, exactly the JSON names of models.ExtractedData without extractor.
const (
	keyIsCreditorReply    = "is_creditor_reply"
	keyClientName         = "client_name"
	keyCreditorName       = "creditor_name"
	keyDebtAmount         = "debt_amount"
	keyReferenceNumbers   = "reference_numbers"
	keyClientAktenzeichen = "client_aktenzeichen"
	keyConfidence         = "confidence"
	keySummary            = "summary"
	// Where the answer was read (see sources.go): optional when decoding,
	// so an answer without them is used, with no source claimed.
	keySources        = "sources"
	keyAmountEvidence = "amount_evidence"
	keyLabelledTotals = "labelled_totals"
	keyTotalSource    = "source"
	keyTotalAmount    = "amount"
	keyTotalLabel     = "label"
	keyTotalLine      = "line"
	sourceFieldsDesc  = "Quelle jedes ausgefüllten Feldes: \"body\" (Text der E-Mail), \"subject\" (Betreff), \"sender\" (nur creditor_name: Absender) oder \"attachment:N\" wie im Tag <anhang quelle=\"attachment:N\">; leerer String für ein leeres Feld."
	totalsDescription = "Jede ausdrücklich als Summe bezeichnete Forderung (Gesamtforderung, Summe, Saldo, Gesamtbetrag, Restforderung, offener Betrag insgesamt) je Quelle, mit der Zeile, in der sie steht; leere Liste, wenn keine."
)

// claimKeys are the keys of the sources the model names; the schema
// requires them, decodeAnswer does not.
func claimKeys() []string { return []string{keySources, keyAmountEvidence, keyLabelledTotals} }

// sourceFields are the fields whose source the answer names.
func sourceFields() []string {
	return []string{
		models.FieldDebtAmount, models.FieldClientName, models.FieldCreditorName,
		models.FieldClientAktenzeichen, models.FieldReferenceNumbers,
	}
}

// answerKeys lists every key the tool input must contain, and nothing else.
func answerKeys() []string {
	return []string{
		keyIsCreditorReply, keyClientName, keyCreditorName, keyDebtAmount,
		keyReferenceNumbers, keyClientAktenzeichen, keyConfidence, keySummary,
	}
}

// extractionTool describes the answer as a strict tool: with strict set the API
// holds the model to this schema, which keeps to the keywords strict mode
// supports (no numeric or length bounds; decodeAnswer enforces those).
func extractionTool() *anthropic.ToolParam {
	str := func(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
	return &anthropic.ToolParam{
		Name:        toolName,
		Description: anthropic.String("Speichert die aus der E-Mail eines Gläubigers gelesenen Angaben. Genau einmal aufrufen."),
		Strict:      anthropic.Bool(true),
		InputSchema: anthropic.ToolInputSchemaParam{
			Properties: map[string]any{
				keyIsCreditorReply: map[string]any{
					"type":        "boolean",
					"description": "true nur, wenn ein Gläubiger (oder sein Inkassobüro/Anwalt) inhaltlich auf die Anfrage der Kanzlei antwortet; false bei Abwesenheitsnotizen, automatischen Antworten, Unzustellbarkeitsmeldungen, Newslettern, Werbung und sonstigen E-Mails.",
				},
				keyClientName:   str("Name des Mandanten (Schuldners) im Format 'Nachname, Vorname'; leerer String, wenn nicht genannt."),
				keyCreditorName: str("Name des antwortenden Gläubigers (Firma oder Person); leerer String, wenn nicht erkennbar."),
				keyDebtAmount: map[string]any{
					"anyOf": []any{
						map[string]any{"type": "number"},
						map[string]any{"type": "null"},
					},
					"description": "Aktuelle Gesamtforderung in EUR als Zahl (z. B. 1234.56), nicht Raten, Teilbeträge oder Vergleichsangebote; null, wenn keine Gesamtforderung genannt ist.",
				},
				keyReferenceNumbers: map[string]any{
					"type":        "array",
					"items":       map[string]any{"type": "string"},
					"description": "Eigene Aktenzeichen, Kunden-, Vertrags- oder Rechnungsnummern des Gläubigers; leere Liste, wenn keine.",
				},
				keyClientAktenzeichen: str("Aktenzeichen der Kanzlei für den Mandanten, wie in der E-Mail genannt; leerer String, wenn nicht genannt."),
				keyConfidence: map[string]any{
					"type":        "number",
					"description": "Sicherheit der Angaben insgesamt, zwischen 0 und 1.",
				},
				keySummary: str("Ein bis zwei sachliche Sätze auf Deutsch, was der Gläubiger mitteilt."),
				keySources: map[string]any{
					"type":                 "object",
					"description":          sourceFieldsDesc,
					"properties":           sourceProperties(),
					"required":             sourceFields(),
					"additionalProperties": false,
				},
				keyAmountEvidence: str("Die Zeile der Quelle von debt_amount, in der der Betrag steht, wörtlich abgeschrieben; leerer String, wenn debt_amount null ist."),
				keyLabelledTotals: map[string]any{
					"type":        "array",
					"description": totalsDescription,
					"items": map[string]any{
						"type": "object",
						"properties": map[string]any{
							keyTotalSource: str("Quelle wie in sources, z. B. \"body\" oder \"attachment:0\"."),
							keyTotalAmount: map[string]any{"type": "number", "description": "Der Betrag in EUR als Zahl."},
							keyTotalLabel:  str("Die Bezeichnung, wie geschrieben, z. B. \"Gesamtforderung\"."),
							keyTotalLine:   str("Die Zeile, wörtlich abgeschrieben."),
						},
						"required":             []string{keyTotalSource, keyTotalAmount, keyTotalLabel, keyTotalLine},
						"additionalProperties": false,
					},
				},
			},
			Required:    append(answerKeys(), claimKeys()...),
			ExtraFields: map[string]any{"additionalProperties": false},
		},
	}
}

// sourceProperties describes the sources object: one string per field.
func sourceProperties() map[string]any {
	props := make(map[string]any, len(sourceFields()))
	for _, f := range sourceFields() {
		props[f] = map[string]any{"type": "string"}
	}
	return props
}
