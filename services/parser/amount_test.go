package parser

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHasAmount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"Die Forderung beträgt 1.234,56 €.": true,
		"EUR 500,00":                        true,
		"eur 500":                           true,
		"500,- Euro":                        true,
		"pauschal 500,--":                   true,
		"€500":                              true,
		"Saldo: -150,00 EUR":                true,
		"Total $ 1,200.00":                  true,
		"balance 1,234.56 due":              true,
		"£410":                              true,
		"12 EURO":                           true,
		"1 234,56 €":                        true,
		"offen 89,90":                       true,
		"Zinssatz 5,00 %":                   false,
		"Zinssatz 5,00%":                    false,
		"vom 03.03.2025 um 10:15":           false,
		"Tel. 030 1234567":                  false,
		"Amtsgericht Berlin HRB 12345":      false,
		"IBAN DE12 3456 7890 1234 5678 90":  false,
		"Europa 2025":                       false,
		"Teuro 5":                           false,
		"Az. 2025/123":                      false,
		"":                                  false,
	} {
		require.Equal(t, want, hasAmount(in), in)
	}
}
