package claude

import "github.com/anthropics/anthropic-sdk-go/v2"

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
)

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
			},
			Required:    answerKeys(),
			ExtraFields: map[string]any{"additionalProperties": false},
		},
	}
}
