package models

import (
	"crypto/rand"
	"encoding/hex"
)

// NewToken returns 32 random hex characters (lease tokens, instance ids).
func NewToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
